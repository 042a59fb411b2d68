"""The single-object tracking protocol over a batched tracker: `initialize(image, box)` then `track(image)`, on
RGB NumPy frames, as benchmark toolkits (GOT-10k, VOT, OTB) drive a tracker."""

from __future__ import annotations

import numpy as np
import torch

from videoanalyst.trackers.siamfcpp_tracker import SiamFCppTracker, TargetBatch


class OneTarget:
    """One target at a time through a `SiamFCppTracker`.

    Args:
        tracker: the batched tracker; its network and device are used as they are.
    """

    def __init__(self, tracker: SiamFCppTracker) -> None:
        self.tracker = tracker
        self._batch: TargetBatch | None = None

    def initialize(self, image: np.ndarray, box_xywh: np.ndarray) -> None:
        """Start on `image` ((H, W, 3) uint8 RGB) at `box_xywh` (x, y, w, h)."""
        self._batch = self.tracker.initialize(self._tensor(image), np.asarray(box_xywh, dtype=np.float32)[None])

    def track(self, image: np.ndarray) -> np.ndarray:
        """The target's (4,) x, y, w, h box in the next frame."""
        if self._batch is None:
            raise RuntimeError("OneTarget.track before initialize")
        self.tracker.track([self._tensor(image)], [self._batch])
        return self._batch.xywh()[0]

    @property
    def score(self) -> float:
        """Confidence of the last box (1 on the initial frame)."""
        return float(self._batch.scores[0]) if self._batch is not None else float("nan")

    def _tensor(self, image: np.ndarray) -> torch.Tensor:
        """(3, H, W) uint8 RGB on the tracker's device: on CPU a view of `image`, which the crop reads in place (no
        copy, so `image` should be writable, as `read_image` returns it: torch warns about a read-only one)."""
        return torch.from_numpy(image).permute(2, 0, 1).to(self.tracker.device)
