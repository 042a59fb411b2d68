"""`TargetState`: where the single tracked target is in one frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videoanalyst.core.boxes import polygon_to_xyxy, xywh_to_xyxy, xyxy_to_xywh


@dataclass(frozen=True, eq=False)
class TargetState:
    """The state of one single-object-tracking target in one frame.

    Args:
        xyxy: (4,) float32 pixel corners x1, y1, x2, y2 (NaN where the target is absent).
        score: the tracker's confidence, 1 for ground truth.
        present: False where the target is absent (out of view or fully occluded).
        polygon: optional (K, 2) corners of a rotated box (VOT ground truth); `xyxy` is then its bounding box.
    """

    xyxy: np.ndarray
    score: float = 1.0
    present: bool = True
    polygon: np.ndarray | None = None

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1)
        if xyxy.shape != (4,):
            raise ValueError(f"TargetState.xyxy must have 4 values, got {np.shape(self.xyxy)}")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "score", float(self.score))
        object.__setattr__(self, "present", bool(self.present))
        if self.polygon is not None:
            polygon = np.asarray(self.polygon, dtype=np.float32).reshape(-1, 2)
            object.__setattr__(self, "polygon", polygon)

    @classmethod
    def from_xywh(cls, xywh: np.ndarray, score: float = 1.0, present: bool = True) -> TargetState:
        """A state from a top-left corner and size (GOT-10k / OTB ground-truth rows)."""
        return cls(xywh_to_xyxy(np.asarray(xywh, dtype=np.float32)), score=score, present=present)

    @classmethod
    def from_polygon(cls, polygon: np.ndarray, score: float = 1.0) -> TargetState:
        """A state from rotated-box corners (VOT ground truth); `xyxy` becomes their bounding box."""
        polygon = np.asarray(polygon, dtype=np.float32).reshape(-1, 2)
        return cls(polygon_to_xyxy(polygon), score=score, polygon=polygon)

    @property
    def xywh(self) -> np.ndarray:
        """(4,) x, y, w, h."""
        return xyxy_to_xywh(self.xyxy)

    def __repr__(self) -> str:
        box = ", ".join(f"{v:.1f}" for v in self.xyxy)
        return f"TargetState(xyxy=[{box}], score={self.score:.3f}, present={self.present})"
