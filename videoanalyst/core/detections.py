"""`Detections`: the boxes of one frame as parallel arrays, spoken by every detector, tracker, sink and evaluator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Detections:
    """N boxes of one frame.

    Args:
        xyxy: (N, 4) float32 pixel corners x1, y1, x2, y2.
        scores: (N,) float32 confidences; 1 when not given.
        class_ids: (N,) int64 class ids; 0 when not given.
        track_ids: (N,) int64 identities; -1 for boxes no tracker has assigned.
        embeddings: optional (N, D) float32 appearance features.
        extra: per-box fields, each an array whose first dimension is N (e.g. ``visibility``).

    Arrays are validated and converted to these dtypes on construction; when every given field already is
    a plain ndarray of its final dtype and shape (as trackers build them) and there are no embeddings or
    extra fields, the checks are all that is done, since the conversions would return the same arrays.
    Index with an int, a slice, an index array or a boolean mask to get a new `Detections` of the selected boxes.
    """

    xyxy: np.ndarray
    scores: np.ndarray | None = None
    class_ids: np.ndarray | None = None
    track_ids: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self._is_converted():
            object.__setattr__(self, "extra", {})
            return
        xyxy = np.asarray(self.xyxy, dtype=np.float32)
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        if xyxy.ndim != 2 or xyxy.shape[1] != 4:
            raise ValueError(f"Detections.xyxy must have shape (N, 4), got {xyxy.shape}")
        n = len(xyxy)
        set_ = object.__setattr__
        set_(self, "xyxy", xyxy)
        set_(self, "scores", _column("scores", self.scores, n, np.float32, 1.0))
        set_(self, "class_ids", _column("class_ids", self.class_ids, n, np.int64, 0))
        set_(self, "track_ids", _column("track_ids", self.track_ids, n, np.int64, -1))
        if self.embeddings is not None:
            embeddings = np.asarray(self.embeddings, dtype=np.float32)
            if embeddings.ndim != 2 or len(embeddings) != n:
                raise ValueError(f"Detections.embeddings must have shape ({n}, D), got {embeddings.shape}")
            set_(self, "embeddings", embeddings)
        extra = {}
        for name, values in self.extra.items():
            values = np.asarray(values)
            if values.ndim == 0 or len(values) != n:
                raise ValueError(f"Detections.extra[{name!r}] must have {n} rows, got shape {values.shape}")
            extra[name] = values
        set_(self, "extra", extra)

    def _is_converted(self) -> bool:
        """Whether the fields are already what `__post_init__` would make of them: no embeddings, an empty
        dict of extra fields, xyxy a (N, 4) float32 ndarray and the three columns (N,) ndarrays of their dtypes."""
        xyxy = self.xyxy
        if (type(xyxy) is not np.ndarray or xyxy.dtype is not _FLOAT32 or xyxy.ndim != 2 or xyxy.shape[1] != 4
                or self.embeddings is not None or type(self.extra) is not dict or self.extra):
            return False
        shape = (len(xyxy),)
        return (_is_column(self.scores, shape, _FLOAT32) and _is_column(self.class_ids, shape, _INT64)
                and _is_column(self.track_ids, shape, _INT64))

    @classmethod
    def empty(cls) -> Detections:
        """No boxes."""
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> Detections:
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(
            xyxy=self.xyxy[index],
            scores=self.scores[index],
            class_ids=self.class_ids[index],
            track_ids=self.track_ids[index],
            embeddings=None if self.embeddings is None else self.embeddings[index],
            extra={name: values[index] for name, values in self.extra.items()},
        )

    def replace(self, **changes: Any) -> Detections:
        """A copy with the given fields replaced, e.g. ``dets.replace(track_ids=ids)``."""
        return replace(self, **changes)

    @staticmethod
    def concatenate(parts: list[Detections]) -> Detections:
        """The boxes of all parts, in order. Embeddings and extra fields are kept where every part has them."""
        if not parts:
            return Detections.empty()
        have_embeddings = all(p.embeddings is not None for p in parts)
        common_extra = set.intersection(*(set(p.extra) for p in parts))
        return Detections(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            scores=np.concatenate([p.scores for p in parts]),
            class_ids=np.concatenate([p.class_ids for p in parts]),
            track_ids=np.concatenate([p.track_ids for p in parts]),
            embeddings=np.concatenate([p.embeddings for p in parts]) if have_embeddings else None,
            extra={name: np.concatenate([p.extra[name] for p in parts]) for name in sorted(common_extra)},
        )

    def __repr__(self) -> str:
        fields = ", ".join(["xyxy", "scores", "class_ids", "track_ids"]
                           + (["embeddings"] if self.embeddings is not None else []) + list(self.extra))
        return f"Detections(n={len(self)}, fields=[{fields}])"


_FLOAT32, _INT64 = np.dtype(np.float32), np.dtype(np.int64)


def _is_column(values: Any, shape: tuple[int], dtype: np.dtype) -> bool:
    return type(values) is np.ndarray and values.dtype is dtype and values.shape == shape


def _column(name: str, values: Any, n: int, dtype: type, default: float) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=dtype)
    array = np.asarray(values, dtype=dtype)
    if array.shape != (n,):
        raise ValueError(f"Detections.{name} must have shape ({n},), got {np.shape(values)}")
    return array
