"""The SiamFC++ pipeline stage: tracks the targets given on a stream's first frame through the rest of it.

One instance serves every stream of a run (the network is loaded once), and the targets of all active streams go
through one batched forward per round.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from videoanalyst.core.boxes import xywh_to_xyxy, xyxy_to_xywh
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, TARGET, FramePacket
from videoanalyst.core.stage import Stage, StreamInfo
from videoanalyst.core.target_state import TargetState
from videoanalyst.errors import InputError
from videoanalyst.experiments import load_experiment
from videoanalyst.models.device import pick_device
from videoanalyst.trackers.siamfcpp_tracker import TargetBatch


class SiamFCpp(Stage):
    """Single-object tracking with SiamFC++, for one or many targets per stream.

    The targets start on each stream's first frame: the boxes in `init`, else the ground truth a dataset source
    attaches (one `TargetState`, or every box of a `Detections`). With one target the stage attaches a
    `TargetState` under `target`; with several, `Detections` with track ids under `detections`. The first frame
    carries the initial boxes with score 1.

    Args:
        experiment: an experiment name in `experiments/` or a YAML path: network, hyper-parameters, weights.
        weights: a weights file to use instead of the experiment's (official `.pkl` or ours).
        init: initial boxes, one `[x, y, w, h]` per target, for every stream; None: from the ground truth.
        device: where crops and network run (`cpu`, `cuda`, `cuda:1`; `auto`: CUDA when there is a GPU).
        experiment_overrides: experiment settings changed from the file, by ``BLOCK.KEY``: ``{tracker.exact: true}``
            runs the exact mode without a copy of the file.
    """

    shares_streams = True

    def __init__(
        self,
        experiment: str = "siamfcpp_alexnet",
        weights: str | None = None,
        init: list[list[float]] | None = None,
        device: str = "cpu",
        experiment_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.device = pick_device(device, "siamfcpp: device")
        self.tracker, self.weights_path = load_experiment(experiment, experiment_overrides or {}).build_tracker(
            weights, self.device
        )
        self.init = None if init is None else np.asarray(init, dtype=np.float32).reshape(-1, 4)
        self._batches: dict[str, TargetBatch] = {}
        self._ids: dict[str, np.ndarray] = {}

    def reset(self, stream: StreamInfo) -> None:
        self._batches.pop(stream.stream_id, None)
        self._ids.pop(stream.stream_id, None)

    def process(self, packet: FramePacket) -> None:
        self.process_batch([packet])

    def process_batch(self, packets: Sequence[FramePacket]) -> None:
        """Frames of one stream are tracked in order; frames of different streams share one forward."""
        rounds: list[list[FramePacket]] = []
        seen: dict[str, int] = {}
        for packet in packets:
            depth = seen.get(packet.stream_id, 0)
            seen[packet.stream_id] = depth + 1
            if depth == len(rounds):
                rounds.append([])
            rounds[depth].append(packet)
        for group in rounds:
            tracked = [p for p in group if p.stream_id in self._batches]
            for packet in group:
                if packet.stream_id not in self._batches:
                    self._start(packet)
            self.tracker.track(
                [p.tensor(self.device) for p in tracked], [self._batches[p.stream_id] for p in tracked]
            )
            for packet in tracked:
                batch = self._batches[packet.stream_id]
                xywh = batch.xywh()
                self._check_finite(packet, xywh, batch.scores)
                self._attach(packet, xywh, batch.scores)

    def _check_finite(self, packet: FramePacket, xywh: np.ndarray, scores: np.ndarray) -> None:
        """Stop at the first non-finite box or score: broken weights (or weights for another input scaling) give
        NaN, which would otherwise be written as result rows."""
        if not (np.isfinite(xywh).all() and np.isfinite(scores).all()):
            raise InputError(
                f"stream {packet.stream_id!r}, frame {packet.frame_index}: siamfcpp: the network produced non-finite "
                f"boxes or scores with the weights {self.weights_path}; check that they are trained weights of this "
                f"experiment's network"
            )

    def _start(self, packet: FramePacket) -> None:
        boxes, ids = self._initial_boxes(packet)
        batch = self.tracker.initialize(packet.tensor(self.device), boxes)
        self._batches[packet.stream_id] = batch
        self._ids[packet.stream_id] = ids
        self._attach(packet, boxes, np.ones(len(boxes), dtype=np.float32))

    def _initial_boxes(self, packet: FramePacket) -> tuple[np.ndarray, np.ndarray]:
        if self.init is not None:
            return self.init, np.arange(1, len(self.init) + 1)
        truth = packet.outputs.get(GROUND_TRUTH)
        if isinstance(truth, TargetState) and truth.present:
            return truth.xywh[None], np.array([1])
        if isinstance(truth, Detections) and len(truth):
            ids = truth.track_ids if truth.track_ids is not None else np.arange(1, len(truth) + 1)
            return xyxy_to_xywh(truth.xyxy), np.asarray(ids)
        raise InputError(
            f"stream {packet.stream_id!r}, frame {packet.frame_index}: siamfcpp needs initial boxes: set `init` "
            f"(one [x, y, w, h] per target) or use a source whose first frame has ground truth with the target in view"
        )

    def _attach(self, packet: FramePacket, xywh: np.ndarray, scores: np.ndarray) -> None:
        if len(xywh) == 1:
            packet.outputs[TARGET] = TargetState.from_xywh(xywh[0], score=float(scores[0]))
        else:
            ids = self._ids[packet.stream_id]
            packet.outputs[DETECTIONS] = Detections(xywh_to_xyxy(xywh), scores=scores, track_ids=ids)
