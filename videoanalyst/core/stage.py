"""The stage contract: sources yield streams of packets, stages process packets, sinks consume them."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from videoanalyst.core.packet import FramePacket


@dataclass(frozen=True)
class StreamInfo:
    """What is known about a stream when it starts.

    Args:
        stream_id: unique name in the run (sequence name or file stem), used for output file names.
        width, height: frame size in pixels.
        fps: nominal frame rate, None when unknown.
        num_frames: frames the stream will deliver (after any frame range), None for live streams.
        path: the file, folder or URL it comes from, for messages.
    """

    stream_id: str
    width: int
    height: int
    fps: float | None = None
    num_frames: int | None = None
    path: str | None = None


class Stream:
    """One stream: its info and an iterator of its packets; `close()` stops any decoding thread behind it."""

    def __init__(self, info: StreamInfo, packets: Iterable[FramePacket], close: Callable[[], None] | None = None):
        self.info = info
        self._packets = iter(packets)
        self._close = close

    def __iter__(self) -> Iterator[FramePacket]:
        return self._packets

    def __next__(self) -> FramePacket:
        return next(self._packets)

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


class Source(abc.ABC):
    """Yields the streams of a video, a folder or a data set, one after another."""

    @abc.abstractmethod
    def streams(self) -> Iterator[Stream]:
        """The streams, opened lazily: a data set of 500 sequences opens one when the runner asks for it."""

    def total_frames(self) -> int | None:
        """Frames all the streams will deliver together, counted without decoding (a folder listing, an annotation
        file, a container header), so that a progress bar's total is right from the start; None where that is
        unknown or costly (a live stream), the default."""
        return None


class Stage(abc.ABC):
    """One step of a pipeline: reset when a stream starts, one call per frame, close at the end.

    The runner builds one instance per stream, so per-stream state simply lives in the instance. A stage
    that batches work across streams sets `shares_streams = True`: the runner then builds one instance
    for the whole run, calls `reset` for every stream that starts, hands `process_batch` the packets of
    all active streams together, and the stage keys its state by `packet.stream_id`.
    Stages attach results to `packet.outputs`; they never draw and never time themselves.
    """

    shares_streams: ClassVar[bool] = False

    def reset(self, stream: StreamInfo) -> None:
        """A stream starts: forget what belongs to an earlier stream of the same id."""

    @abc.abstractmethod
    def process(self, packet: FramePacket) -> None:
        """Process one frame, attaching results to `packet.outputs`."""

    def process_batch(self, packets: Sequence[FramePacket]) -> None:
        """Process frames in order; override to batch them through a model."""
        for packet in packets:
            self.process(packet)

    def close(self) -> None:
        """The stream (or, for a shared stage, the run) is over: release what was held."""


class Sink(Stage):
    """A stage that writes packets out (files, video); `close` flushes and closes what it wrote.

    Sinks take the run's output folder as `output_dir` and are closed even when a run stops halfway,
    so what was written up to the failure is kept.
    """
