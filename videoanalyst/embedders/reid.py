"""The ReID stage: embeds every detected box with `ReidNet`, filling `Detections.embeddings` row for row."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import torch

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import Stage
from videoanalyst.errors import ConfigError
from videoanalyst.models.device import pick_device
from videoanalyst.models.reid import Backbone, ReidNet, build_reid


class Reid(Stage):
    """Appearance embeddings of the detections: crops of each box (roi_align), one L2-normalised vector a box.

    One instance serves every stream of a run (the network is loaded once), and the boxes of all the frames it is
    handed go through as few forwards as `max_batch` allows. Frames without detections pass untouched.

    Args:
        weights: a `ReidNet` weights file (``final.pt`` of ``python -m videoanalyst.train --exp
            reid_resnet50_synthetic_train``); None: random weights, whose embeddings mean nothing (a warning says so).
        embedding_dim: length of the embeddings; must match the weights.
        backbone: the ResNet of the weights ("resnet50" or "resnet18").
        device: where crops and network run: "auto" (CUDA when available, else the CPU), "cpu", "cuda", "cuda:1".
        crop_height, crop_width: size each box is resized to; the weights were trained at one size (256 x 128 for
            the shipped recipe) and work best at it.
        max_batch: most crops per forward; raising it uses the accelerator better and needs more memory.
    """

    shares_streams = True

    def __init__(
        self,
        weights: str | None = None,
        embedding_dim: int = 128,
        backbone: Backbone = "resnet50",
        device: str = "auto",
        crop_height: int = 256,
        crop_width: int = 128,
        max_batch: int = 64,
    ) -> None:
        if min(crop_height, crop_width, max_batch) < 1:
            raise ConfigError(f"reid: crop_height, crop_width and max_batch must be >= 1, got {crop_height}, "
                              f"{crop_width}, {max_batch}")
        if weights is None:
            print("warning: reid: no weights given; random weights give meaningless embeddings", file=sys.stderr)
        self.device = pick_device(device, "reid: device")
        self.network: ReidNet = build_reid(
            weights, embedding_dim=embedding_dim, backbone=backbone, crop_size=(crop_height, crop_width)
        ).to(self.device)
        self.max_batch = max_batch

    def process(self, packet: FramePacket) -> None:
        self.process_batch([packet])

    def process_batch(self, packets: Sequence[FramePacket]) -> None:
        """The boxes of every frame handed in, batched across frames and streams."""
        jobs = [(p, d) for p in packets if isinstance(d := p.outputs.get(DETECTIONS), Detections)]
        embeddings = self.network.embed_frames(
            [p.tensor(self.device) for p, _ in jobs], [torch.from_numpy(d.xyxy) for _, d in jobs], self.max_batch
        )
        for (packet, detections), rows in zip(jobs, embeddings):
            packet.outputs[DETECTIONS] = detections.replace(embeddings=rows.cpu().numpy())
