"""Per-stage profiling: calls, latency (mean, p95), fps, share of the run, set-up time, and peak memory."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

_HISTOGRAM_LOW = 1e-7  # seconds: the fastest latency the histogram resolves
_HISTOGRAM_RATIO = 1.01  # bin width: percentiles are exact to 1 %
_HISTOGRAM_BINS = 2700  # up to ~4e4 s


class LatencyHistogram:
    """Latencies in log-spaced bins: constant memory on a 24-hour stream, percentiles exact to 1 %."""

    def __init__(self) -> None:
        self.counts = [0] * _HISTOGRAM_BINS

    def add(self, seconds: float) -> None:
        index = 0 if seconds <= _HISTOGRAM_LOW else int(math.log(seconds / _HISTOGRAM_LOW, _HISTOGRAM_RATIO)) + 1
        self.counts[min(index, _HISTOGRAM_BINS - 1)] += 1

    def percentile(self, q: float) -> float:
        """The q-th percentile (0..100) in seconds: the upper edge of the bin that holds it."""
        total = sum(self.counts)
        if total == 0:
            return 0.0
        rank = math.ceil(q / 100 * total)
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return _HISTOGRAM_LOW * _HISTOGRAM_RATIO**index
        return _HISTOGRAM_LOW * _HISTOGRAM_RATIO ** (_HISTOGRAM_BINS - 1)


@dataclass
class StageReport:
    """What one stage cost over a run.

    Its time is split in two: the frame calls, which `mean_ms`, `p95_ms`, `fps` and `share` describe alike, and
    `setup_s`, building and resetting its instances as streams start and closing them as they end (for the source:
    counting and opening the streams), which a per-frame figure would blur. `total_s` is their sum.

    Args:
        name: the stage's profile name.
        calls: frame calls (one a batch).
        frames: frames those calls processed.
        total_s: seconds charged to the stage: its frame calls plus `setup_s`.
        mean_ms, p95_ms: latency of one frame call.
        fps: frames per second of frame-call time.
        share: frame-call time / the run's wall time.
        setup_s: seconds of set-up and close.
        peak_rss_mb: the process's resident memory, highest seen after the stage's work.
        peak_cuda_mb: the highest `torch.cuda.max_memory_allocated` during its work; None without CUDA.
    """

    name: str
    calls: int
    frames: int
    total_s: float
    mean_ms: float
    p95_ms: float
    fps: float
    share: float
    setup_s: float
    peak_rss_mb: float
    peak_cuda_mb: float | None


class StageTimer:
    """Accumulates the cost of one stage over a run; `Profiler.measure` charges each call to it."""

    def __init__(self, name: str, memory: MemoryProbe) -> None:
        self.name = name
        self.calls = 0
        self.frames = 0
        self.total_s = 0.0
        self.call_s = 0.0
        self.peak_rss = 0
        self.peak_cuda: int | None = None
        self.histogram = LatencyHistogram()
        self._memory = memory

    def record(self, seconds: float, frames: int, count_call: bool = True) -> None:
        """Charge one call (or, with count_call False, set-up or closing work that is not a frame call)."""
        self.frames += frames
        self.total_s += seconds
        if count_call:
            self.calls += 1
            self.call_s += seconds
            self.histogram.add(seconds)
        self.peak_rss = max(self.peak_rss, self._memory.rss())

    def report(self, wall_s: float) -> StageReport:
        mean = self.call_s / self.calls if self.calls else 0.0
        return StageReport(
            name=self.name,
            calls=self.calls,
            frames=self.frames,
            total_s=self.total_s,
            mean_ms=mean * 1e3,
            p95_ms=self.histogram.percentile(95) * 1e3,
            fps=self.frames / self.call_s if self.call_s > 0 else math.inf,
            share=self.call_s / wall_s if wall_s > 0 else 0.0,
            setup_s=self.total_s - self.call_s,
            peak_rss_mb=self.peak_rss / 2**20,
            peak_cuda_mb=None if self.peak_cuda is None else self.peak_cuda / 2**20,
        )


class MemoryProbe:
    """Reads the process's resident memory: Linux /proc/self/statm, kept open (a read costs ~1 µs, not an open),
    else the peak from getrusage."""

    def __init__(self) -> None:
        try:
            self._statm: int | None = os.open("/proc/self/statm", os.O_RDONLY)
            self._page = os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            self._statm = None

    def rss(self) -> int:
        """Current resident set size in bytes."""
        if self._statm is not None:
            return int(os.pread(self._statm, 64, 0).split()[1]) * self._page
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024

    def __del__(self) -> None:
        if getattr(self, "_statm", None) is not None:
            os.close(self._statm)


class _CudaProbe:
    """torch.cuda once this process has initialised CUDA, else None; the profiler never initialises it itself.

    Once found it is kept, so the per-call check costs nothing on the hot path after that.
    """

    def __init__(self) -> None:
        self._cuda = None

    def __call__(self):
        if self._cuda is None:
            torch = sys.modules.get("torch")
            if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
                self._cuda = torch.cuda
        return self._cuda


class Profiler:
    """Times every stage the runner calls; GPU work is synchronised so that it is charged to its own stage."""

    def __init__(self) -> None:
        self._memory = MemoryProbe()
        self._cuda = _CudaProbe()
        self.timers: dict[str, StageTimer] = {}
        self._started = time.perf_counter()
        self._stopped: float | None = None

    def timer(self, name: str) -> StageTimer:
        if name not in self.timers:
            self.timers[name] = StageTimer(name, self._memory)
        return self.timers[name]

    def measure(self, name: str, frames: int, count_call: bool = True) -> _Measurement:
        """Context manager charging the enclosed work to stage `name`; `.seconds` holds its duration after."""
        return _Measurement(self.timer(name), frames, count_call, self._cuda)

    def stop(self) -> None:
        self._stopped = time.perf_counter()

    @property
    def wall_s(self) -> float:
        end = self._stopped if self._stopped is not None else time.perf_counter()
        return end - self._started

    def reports(self) -> list[StageReport]:
        wall = self.wall_s
        return [timer.report(wall) for timer in self.timers.values()]

    def table(self) -> str:
        """The per-stage table printed at the end of a run; its footer splits the wall time into the stages' frame
        calls (the `share` column's sum), their set-up and close (the `setup s` column's), and the rest."""
        reports = self.reports()
        show_cuda = any(r.peak_cuda_mb is not None for r in reports)
        header = ["stage", "calls", "frames", "mean ms", "p95 ms", "fps", "share", "setup s", "peak RSS MB"]
        header += ["peak CUDA MB"] if show_cuda else []
        rows = []
        for r in reports:
            row = [r.name, str(r.calls), str(r.frames), f"{r.mean_ms:.2f}", f"{r.p95_ms:.2f}",
                   f"{r.fps:.1f}", f"{100 * r.share:.1f}%", f"{r.setup_s:.2f}", f"{r.peak_rss_mb:.0f}"]
            if show_cuda:
                row.append("-" if r.peak_cuda_mb is None else f"{r.peak_cuda_mb:.0f}")
            rows.append(row)
        widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
        lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
                 for line in [header, *rows]]
        lines.insert(1, "-" * len(lines[0]))
        wall = self.wall_s
        calls = sum(r.total_s - r.setup_s for r in reports)
        setup = sum(r.setup_s for r in reports)
        parts = [("frame calls", calls), ("set-up and close", setup), ("untimed", wall - calls - setup)]
        lines.append("-" * len(lines[0]))
        lines.append(f"wall {wall:.2f} s = " + " + ".join(f"{label} {seconds:.2f} s "
                                                         f"({100 * seconds / wall if wall else 0:.1f}%)"
                                                         for label, seconds in parts))
        return "\n".join(lines)

    def write_json(self, path: str | Path) -> None:
        """Write the reports and the run's wall time as JSON."""
        payload = {"wall_s": self.wall_s, "stages": [asdict(r) for r in self.reports()]}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2))


class _Measurement:
    __slots__ = ("_timer", "_frames", "_count_call", "_cuda_probe", "_start", "seconds")

    def __init__(self, timer: StageTimer, frames: int, count_call: bool, cuda_probe: _CudaProbe) -> None:
        self._timer = timer
        self._frames = frames
        self._count_call = count_call
        self._cuda_probe = cuda_probe

    def __enter__(self) -> _Measurement:
        cuda = self._cuda_probe()
        if cuda is not None:
            cuda.synchronize()
            cuda.reset_peak_memory_stats()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        cuda = self._cuda_probe()  # looked up again: a stage may initialise CUDA during its first call
        if cuda is not None:
            cuda.synchronize()
        seconds = time.perf_counter() - self._start
        self._timer.record(seconds, self._frames, self._count_call)
        if cuda is not None:
            self._timer.peak_cuda = max(self._timer.peak_cuda or 0, cuda.max_memory_allocated())
        self.seconds = seconds
