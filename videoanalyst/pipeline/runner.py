"""Drive source -> stages -> sinks over one or many streams, in bounded memory, timing every stage."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from videoanalyst.core.packet import FramePacket
from videoanalyst.core.stage import Source, Stage, Stream
from videoanalyst.pipeline.profiler import Profiler
from videoanalyst.pipeline.progress import Progress

StageFactory = Callable[[], Stage]


@dataclass
class RunReport:
    """What a run did: frames per stream, the profile, and where the sinks wrote."""

    frames: dict[str, int]
    profiler: Profiler
    output_dir: Path | None
    completed: bool = False


@dataclass
class _Slot:
    """A pipeline position: its profile name and how to build it (one instance per stream unless shared)."""

    name: str
    factory: StageFactory
    shared: Stage | None = None


class _ActiveStream:
    """A stream being processed, with its own instance at every pipeline position."""

    def __init__(self, stream: Stream, instances: list[Stage]) -> None:
        self.stream = stream
        self.instances = instances
        self.frames = 0


class Pipeline:
    """A source, stages and sinks, run over every stream the source yields.

    Args:
        source: yields the streams.
        stages: zero-argument factories (a class, a `functools.partial`): the runner builds one instance per
            stream so per-stream state stays apart; a stage class with `shares_streams = True` is built once
            and gets the frames of all active streams in one `process_batch` call.
        sinks: factories of sinks, likewise.
        names: profile names of stages then sinks; default: the class names.
        max_streams: streams processed at once, interleaved (1: one after another).
        batch_size: frames of one stream handed to each stage per call.
        device: upload each frame there once after decoding ("cuda"), so GPU stages share one upload.
        progress: show progress on stderr: a tqdm bar on a terminal, else a line every `progress_interval` seconds
            (frames done of the total, fps, eta). The total is `Source.total_frames()`, counted once before the
            first frame; where the source cannot say, the frame counts of its streams are added as they open
            (exact for a single video file; none for a live stream).
        progress_interval: seconds between two progress lines where stderr is not a terminal (CI logs, nohup,
            a pipe); 0: a line after every batch.
        output_dir: where the sinks write, for the report.
    """

    def __init__(
        self,
        source: Source,
        stages: Sequence[StageFactory] = (),
        sinks: Sequence[StageFactory] = (),
        *,
        names: Sequence[str] | None = None,
        max_streams: int = 1,
        batch_size: int = 1,
        device: str | None = None,
        progress: bool = True,
        progress_interval: float = 30.0,
        output_dir: str | Path | None = None,
    ) -> None:
        if max_streams < 1 or batch_size < 1:
            raise ValueError(f"max_streams and batch_size must be >= 1, got {max_streams}, {batch_size}")
        factories = [*stages, *sinks]
        names = _unique(list(names) if names is not None else [_factory_name(f) for f in factories])
        self.source = source
        self._slots = [_Slot(name, factory) for name, factory in zip(names, factories)]
        self._num_stages = len(stages)
        self.max_streams = max_streams
        self.batch_size = batch_size
        self.device = device
        self.progress = progress
        self.progress_interval = progress_interval
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.report: RunReport | None = None

    def run(self) -> RunReport:
        """Run to the end of every stream; sinks are closed (files kept) even when the run fails or is interrupted.

        `self.report` holds the report of the run in progress, so a caller can show what a failed run did.
        """
        profiler = Profiler()
        report = self.report = RunReport(frames={}, profiler=profiler, output_dir=self.output_dir)
        active: list[_ActiveStream] = []
        with profiler.measure("source", frames=0, count_call=False):
            total = self.source.total_frames() if self.progress else None
        progress = Progress(total, enabled=self.progress, interval=self.progress_interval)
        streams = self.source.streams()
        try:
            while True:
                while len(active) < self.max_streams:
                    with profiler.measure("source", frames=0, count_call=False):
                        stream = next(streams, None)
                    if stream is None:
                        break
                    try:
                        active.append(self._start(stream, profiler))
                    except BaseException:
                        stream.close()  # stops its decoding thread; the error (e.g. a bad sink setting) goes on
                        raise
                    report.frames[stream.info.stream_id] = 0
                    if total is None and stream.info.num_frames is not None:
                        progress.grow_total(stream.info.num_frames)
                if not active:
                    break
                reads = [(entry, self._read(entry, profiler)) for entry in active]
                self._process([(entry, packets) for entry, packets in reads if packets], profiler)
                for entry, packets in reads:
                    entry.frames += len(packets)
                    report.frames[entry.stream.info.stream_id] = entry.frames
                    progress.update(len(packets))
                    if len(packets) < self.batch_size:
                        active.remove(entry)
                        self._close(entry, profiler)
            report.completed = True
        finally:
            for entry in active:
                self._close(entry, profiler, quiet=True)
            for slot in self._slots:
                if slot.shared is not None:
                    with profiler.measure(slot.name, frames=0, count_call=False):
                        slot.shared.close()
            if hasattr(streams, "close"):
                streams.close()  # a source generator left mid-way releases what it holds
            progress.close()
            profiler.stop()
        return report

    def _start(self, stream: Stream, profiler: Profiler) -> _ActiveStream:
        """Build (or reuse, when shared) each position's instance and reset it; set-up is charged to the stage."""
        instances = []
        for slot in self._slots:
            with profiler.measure(slot.name, frames=0, count_call=False):
                instance = slot.shared or slot.factory()
                if instance.shares_streams:
                    slot.shared = instance
                instance.reset(stream.info)
            instances.append(instance)
        return _ActiveStream(stream, instances)

    def _read(self, entry: _ActiveStream, profiler: Profiler) -> list[FramePacket]:
        with profiler.measure("source", frames=0):
            packets = list(itertools.islice(entry.stream, self.batch_size))
        profiler.timer("source").frames += len(packets)
        if self.device is not None and packets:
            with profiler.measure("upload", frames=len(packets)):
                for packet in packets:
                    packet.tensor(self.device)
        return packets

    def _process(self, reads: list[tuple[_ActiveStream, list[FramePacket]]], profiler: Profiler) -> None:
        """Run one round: every position in order, over the packets read from every active stream."""
        for position, slot in enumerate(self._slots):
            if slot.shared is not None:
                calls = [(slot.shared, [packet for _, packets in reads for packet in packets])]
            else:
                calls = [(entry.instances[position], packets) for entry, packets in reads]
            for instance, packets in calls:
                if not packets:
                    continue
                with profiler.measure(slot.name, frames=len(packets)) as measurement:
                    try:
                        instance.process_batch(packets)
                    except Exception as error:
                        _add_note(error, f"in stage {slot.name!r}, stream {packets[0].stream_id!r}, "
                                         f"frame {packets[0].frame_index}")
                        raise
                if position < self._num_stages:
                    for packet in packets:
                        packet.stage_seconds[slot.name] = measurement.seconds / len(packets)

    def _close(self, entry: _ActiveStream, profiler: Profiler, quiet: bool = False) -> None:
        """Close the stream's own instances (files flushed), each charged to its position, then the stream."""
        first_error = None
        for slot, instance in zip(self._slots, entry.instances):
            if instance is slot.shared:
                continue
            with profiler.measure(slot.name, frames=0, count_call=False):
                try:
                    instance.close()
                except Exception as error:  # keep closing the others, so every sink flushes
                    first_error = first_error or error
        with profiler.measure("source", frames=0, count_call=False):
            entry.stream.close()
        if first_error is not None and not quiet:
            raise first_error


def _factory_name(factory: StageFactory) -> str:
    target = getattr(factory, "func", factory)
    return getattr(target, "__name__", type(target).__name__)


def _unique(names: list[str]) -> list[str]:
    """Profile names, suffixed `#2`, `#3` where a name repeats."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return unique


def _add_note(error: BaseException, note: str) -> None:
    if hasattr(error, "add_note"):
        error.add_note(note)
