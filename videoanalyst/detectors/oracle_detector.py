"""A detector that reads the ground truth and degrades it: jitter, misses, false positives. For tests and demos."""

from __future__ import annotations

import zlib

import numpy as np

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, FramePacket
from videoanalyst.core.stage import Stage, StreamInfo
from videoanalyst.errors import InputError


class OracleDetector(Stage):
    """Noisy ground-truth detections, reproducible per stream.

    Args:
        jitter: standard deviation of the box-corner noise, as a fraction of box width / height. Raising it
            makes association harder; 0 gives exact boxes.
        miss_rate: probability that a true box is dropped on a frame.
        false_positives: mean number of spurious boxes a frame (Poisson), placed uniformly in the image.
        min_visibility: true boxes less visible than this (ground-truth `visibility`, 0..1) are never detected.
        seed: noise seed; each stream draws from its own generator seeded by this and its stream id.
        keep_identities: keep the ground-truth ids on the true boxes (an oracle tracker, for testing sinks and
            evaluators); False leaves every id -1, as a real detector does.
    """

    def __init__(self, jitter: float = 0.03, miss_rate: float = 0.1, false_positives: float = 1.0,
                 min_visibility: float = 0.2, seed: int = 0, keep_identities: bool = False) -> None:
        if not 0 <= miss_rate <= 1 or jitter < 0 or false_positives < 0:
            raise ValueError("oracle_detector: need 0 <= miss_rate <= 1, jitter >= 0, false_positives >= 0")
        self.jitter = jitter
        self.miss_rate = miss_rate
        self.false_positives = false_positives
        self.min_visibility = min_visibility
        self.seed = seed
        self.keep_identities = keep_identities
        self._rng = np.random.default_rng(seed)

    def reset(self, stream: StreamInfo) -> None:
        self._rng = np.random.default_rng([self.seed, zlib.crc32(stream.stream_id.encode())])

    def process(self, packet: FramePacket) -> None:
        truth = packet.outputs.get(GROUND_TRUTH)
        if not isinstance(truth, Detections):
            found = "none" if truth is None else f"a {type(truth).__name__}"
            raise InputError(f"oracle_detector needs multi-object ground truth (Detections) on every frame; frame "
                             f"{packet.frame_index} of {packet.stream_id!r} has {found}. Use a source that reads "
                             f"annotations (mot17, synthetic)")
        packet.outputs[DETECTIONS] = self.detect(truth, packet.width, packet.height)

    def detect(self, truth: Detections, width: int, height: int) -> Detections:
        """The degraded boxes of one frame's ground truth in a `width` x `height` image (next draws of the stream)."""
        visibility = truth.extra.get("visibility", np.ones(len(truth), np.float32))
        kept = truth[(visibility >= self.min_visibility) & (self._rng.random(len(truth)) >= self.miss_rate)]
        size = np.concatenate([kept.xyxy[:, 2:] - kept.xyxy[:, :2]] * 2, axis=1)
        boxes = kept.xyxy + self._rng.normal(0, self.jitter, kept.xyxy.shape) * size
        true_part = Detections(xyxy=boxes, scores=self._rng.uniform(0.5, 1.0, len(kept)), class_ids=kept.class_ids,
                               track_ids=kept.track_ids if self.keep_identities else None)
        return Detections.concatenate([true_part, self._spurious(width, height, truth)])

    def _spurious(self, width: int, height: int, truth: Detections) -> Detections:
        count = self._rng.poisson(self.false_positives)
        sizes = self._rng.uniform(0.05, 0.25, (count, 2)) * [width, height]
        corners = self._rng.uniform(0, 1, (count, 2)) * ([width, height] - sizes)
        class_id = int(truth.class_ids[0]) if len(truth) else 1
        return Detections(xyxy=np.concatenate([corners, corners + sizes], axis=1),
                          scores=self._rng.uniform(0.1, 0.6, count), class_ids=np.full(count, class_id))
