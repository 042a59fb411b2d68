"""The Faster R-CNN detector stage: COCO boxes of the chosen classes on every frame, or every N-th frame."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import Stage
from videoanalyst.errors import ConfigError
from videoanalyst.models.device import pick_device
from videoanalyst.models.faster_rcnn import build_faster_rcnn, coco_class_ids


class FasterRcnn(Stage):
    """Detects objects with torchvision's Faster R-CNN ResNet-50 FPN and attaches `Detections` (boxes x1, y1, x2, y2
    in frame pixels, float32 scores, COCO class ids as torchvision numbers them: person = 1).

    One instance serves every stream of a run (the network is loaded once), and the frames handed over together
    (the run's `batch_size`, from every active stream) go through one forward per image size: frames of one size
    are batched; sizes are not mixed, because torchvision would pad the smaller ones and change their boxes.

    Args:
        weights: "coco" (torchvision's COCO file, from the weights cache or torch.hub's folder, never downloaded), a
            state-dict file of the same network, or None for random weights (tests).
        classes: COCO class names or ids to keep (e.g. ["person"], [1, 3]); None keeps every class.
        score_threshold: boxes scoring above it are kept. Raising it drops weak boxes (fewer false positives, more
            misses); lowering it keeps more for trackers that use low-score boxes (ByteTrack).
        every: detect on frames whose index is a multiple of it; the others get no `detections` output, so an
            associator predicts through them. Raising it saves compute and costs accuracy.
        device: "auto" (cuda when available, else cpu), "cpu", "cuda", "cuda:1".
        min_size, max_size: the shorter frame side is resized to `min_size` unless the longer would exceed
            `max_size`. Lowering them is faster and misses small objects.
    """

    shares_streams = True

    def __init__(
        self,
        weights: str | None = "coco",
        classes: Sequence[str | int] | None = ("person",),
        score_threshold: float = 0.5,
        every: int = 1,
        device: str = "auto",
        min_size: int = 800,
        max_size: int = 1333,
    ) -> None:
        if every < 1:
            raise ConfigError(f"faster_rcnn: every must be >= 1, got {every}")
        self.class_ids = None if classes is None else np.asarray(coco_class_ids(classes), dtype=np.int64)
        self.score_threshold = score_threshold
        self.every = every
        self.device = pick_device(device, "faster_rcnn: device")
        self.model = build_faster_rcnn(weights, min_size=min_size, max_size=max_size).to(self.device)
        # the network drops boxes at or below its own threshold (0.05) before NMS: make it ours, so lower ones pass
        self.model.roi_heads.score_thresh = score_threshold

    def process(self, packet: FramePacket) -> None:
        self.process_batch([packet])

    @torch.inference_mode()
    def process_batch(self, packets: Sequence[FramePacket]) -> None:
        """Detect on the frames due for detection, one forward per image size; the others are left untouched."""
        by_size: dict[tuple[int, int], list[FramePacket]] = {}
        for packet in packets:
            if packet.frame_index % self.every == 0:
                by_size.setdefault((packet.height, packet.width), []).append(packet)
        for group in by_size.values():
            images = [packet.tensor(self.device).float().div_(255) for packet in group]
            for packet, output in zip(group, self.model(images)):
                packet.outputs[DETECTIONS] = self._kept(output)

    def _kept(self, output: dict[str, torch.Tensor]) -> Detections:
        """The boxes of one torchvision output that score above the threshold and are of a kept class."""
        scores = output["scores"].cpu().numpy()
        class_ids = output["labels"].cpu().numpy()
        keep = scores > self.score_threshold
        if self.class_ids is not None:
            keep &= np.isin(class_ids, self.class_ids)
        return Detections(xyxy=output["boxes"].cpu().numpy()[keep], scores=scores[keep], class_ids=class_ids[keep])
