"""`FramePacket`: one decoded frame travelling through the pipeline, with what the stages attach to it."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import torch

#: Key of the `Detections` a detector attaches and an associator returns with track ids filled in.
DETECTIONS = "detections"
#: Key of the ground truth a dataset source attaches: `Detections` (MOT) or `TargetState` (single target).
GROUND_TRUTH = "ground_truth"
#: Key of the `TargetState` a single-object tracker attaches.
TARGET = "target"


class FramePacket:
    """One frame of one stream.

    The image is RGB, uint8, (H, W, 3), decoded once and shared read-only by every stage: a stage that
    needs BGR or a tensor asks `tensor()`, which converts once per packet and caches the result, so a
    GPU pipeline uploads each frame once and every GPU stage reuses that upload.

    Args:
        stream_id: name of the stream (sequence name or file stem); unique within a run.
        frame_index: 0-based index of the frame in its stream.
        timestamp: presentation time in seconds.
        image: (H, W, 3) uint8 RGB; made read-only here.
    """

    __slots__ = ("stream_id", "frame_index", "timestamp", "image", "outputs", "stage_seconds", "_tensors")

    def __init__(self, stream_id: str, frame_index: int, timestamp: float, image: np.ndarray) -> None:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"FramePacket.image must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
        image.flags.writeable = False
        self.stream_id = stream_id
        self.frame_index = frame_index
        self.timestamp = timestamp
        self.image = image
        #: What stages attach, by key (`DETECTIONS`, `TARGET`, ...).
        self.outputs: dict[str, Any] = {}
        #: Seconds each processing stage (not the source, not the sinks) spent on this frame; filled by the runner.
        self.stage_seconds: dict[str, float] = {}
        self._tensors: dict[tuple[str, str], torch.Tensor] = {}

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]

    def tensor(self, device: str | torch.device = "cpu", order: Literal["rgb", "bgr"] = "rgb") -> torch.Tensor:
        """The image as a (3, H, W) uint8 tensor on `device` in channel `order`, converted once and cached."""
        import torch

        device = torch.device(device)
        key = (str(device), order)
        if key not in self._tensors:
            if order == "bgr":
                tensor = self.tensor(device, "rgb").flip(0)
            elif device.type == "cpu":
                with warnings.catch_warnings():  # the image is read-only on purpose; the tensor shares it
                    warnings.simplefilter("ignore", UserWarning)
                    tensor = torch.from_numpy(self.image).permute(2, 0, 1)
            else:
                tensor = self.tensor("cpu", "rgb").to(device, non_blocking=True)
            self._tensors[key] = tensor
        return self._tensors[key]

    def __repr__(self) -> str:
        return (f"FramePacket(stream={self.stream_id!r}, frame={self.frame_index}, t={self.timestamp:.3f}s, "
                f"{self.width}x{self.height}, outputs={sorted(self.outputs)})")
