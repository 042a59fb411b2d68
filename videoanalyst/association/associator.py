"""`Associator`: the contract every multi-object tracker stage follows (one instance, one state, per stream)."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator

import numpy as np

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import Stage, StreamInfo
from videoanalyst.errors import InputError


class Associator(Stage):
    """Reads the frame's `Detections`, replaces them by the tracks to report, with `track_ids` >= 1.

    A frame without a `DETECTIONS` output is one the detector skipped (its ``every`` setting): the tracker
    advances its motion model and reports the predicted boxes of its live tracks, and nobody counts a miss.
    A frame whose detections are empty is a frame where nothing was seen: tracks age and may end.

    The base checks the input once for every algorithm: finite boxes, and one image size per stream.
    Subclasses hold all state in attributes set by `start`, so that a new stream begins from nothing.
    """

    def reset(self, stream: StreamInfo) -> None:
        self._stream = stream
        self._image_size: tuple[int, int] | None = None
        self.start()

    @abc.abstractmethod
    def start(self) -> None:
        """Forget every track and restart the id counter at 1."""

    @abc.abstractmethod
    def update(self, detections: Detections, packet: FramePacket) -> Detections:
        """Associate this frame's detections with the tracks; return the tracks to report."""

    @abc.abstractmethod
    def predict(self, packet: FramePacket) -> Detections:
        """A frame without detections: advance the tracks' motion and return their predicted boxes."""

    def process(self, packet: FramePacket) -> None:
        self._check_image_size(packet)
        detections = packet.outputs.get(DETECTIONS)
        if detections is None:
            packet.outputs[DETECTIONS] = self.predict(packet)
            return
        if not isinstance(detections, Detections):
            raise InputError(f"{type(self).__name__}: frame {packet.frame_index} of {packet.stream_id!r} carries "
                             f"{type(detections).__name__} under {DETECTIONS!r}; expected Detections")
        if not (_all_finite(detections.xyxy) and _all_finite(detections.scores)):
            bad = ~np.isfinite(detections.xyxy).all(axis=1) | ~np.isfinite(detections.scores)
            raise InputError(f"{type(self).__name__}: frame {packet.frame_index} of {packet.stream_id!r} has "
                             f"{int(bad.sum())} detection(s) with NaN or infinite box or score, e.g. "
                             f"{detections.xyxy[bad][0].tolist()}; drop or fix them before association")
        packet.outputs[DETECTIONS] = self.update(detections, packet)

    def _check_image_size(self, packet: FramePacket) -> None:
        size = (packet.width, packet.height)
        if self._image_size is None:
            self._image_size = size
        elif size != self._image_size:
            raise InputError(f"{type(self).__name__}: frame {packet.frame_index} of {packet.stream_id!r} is "
                             f"{size[0]}x{size[1]}, earlier frames were {self._image_size[0]}x"
                             f"{self._image_size[1]}; track boxes live in one image size, so resize the stream "
                             f"to one size first")


def _all_finite(values: np.ndarray) -> bool:
    """No NaN or infinity in `values` (`np.isfinite(values).all()`, in less time on small arrays)."""
    return np.count_nonzero(np.isfinite(values)) == values.size


def associate(associator: Associator, frames: Iterable[Detections | None], width: int, height: int,
              stream_id: str = "stream") -> Iterator[Detections]:
    """Run a box-only associator over one stream of per-frame detections, without images; yield each frame's tracks.

    For detections read from files (det.txt, another detector's output) and for tests and benchmarks. Frames are
    blank `width` x `height` images, so stages that look at pixels (Tracktor) need a real pipeline instead. None in
    `frames` is a frame the detector skipped.
    """
    associator.reset(StreamInfo(stream_id, width, height))
    image = np.zeros((height, width, 3), np.uint8)
    for index, detections in enumerate(frames):
        packet = FramePacket(stream_id, index, 0.0, image)
        if detections is not None:
            packet.outputs[DETECTIONS] = detections
        associator.process(packet)
        yield packet.outputs[DETECTIONS]
