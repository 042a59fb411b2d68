import json

import numpy as np
import pytest

from videoanalyst.pipeline.profiler import LatencyHistogram, MemoryProbe, Profiler, StageTimer


def test_histogram_percentiles_are_exact_to_one_percent():
    samples = np.random.default_rng(1).lognormal(mean=-5, sigma=1.0, size=20000)
    histogram = LatencyHistogram()
    for s in samples:
        histogram.add(float(s))
    for q in (50, 95, 99):
        exact = np.percentile(samples, q, method="inverted_cdf")
        assert abs(histogram.percentile(q) / exact - 1) <= 0.011


def test_histogram_memory_does_not_grow():
    histogram = LatencyHistogram()
    before = len(histogram.counts)
    for i in range(100000):
        histogram.add(1e-3 * (1 + i % 7))
    assert len(histogram.counts) == before and sum(histogram.counts) == 100000


def test_json_report(tmp_path):
    profiler = Profiler()
    with profiler.measure("stage", frames=2):
        sum(range(1000))
    with profiler.measure("stage", frames=0, count_call=False):
        pass
    profiler.stop()
    path = tmp_path / "p" / "profile.json"
    profiler.write_json(path)
    data = json.loads(path.read_text())
    stage = data["stages"][0]
    assert stage["name"] == "stage" and stage["calls"] == 1 and stage["frames"] == 2
    assert 0 <= stage["setup_s"] <= stage["total_s"]
    assert stage["fps"] == pytest.approx(2 / (stage["total_s"] - stage["setup_s"]))
    assert stage["peak_rss_mb"] > 1 and data["wall_s"] >= stage["total_s"]
    assert stage["peak_cuda_mb"] is None  # no CUDA in this process


def test_set_up_is_its_own_column_and_fps_share_and_latency_count_frame_calls_only():
    """A stage that took 2 s to build and 0.5 s a call for 2 calls of 10 frames, in a 4 s run: 20 fps (not 20 / 3 s),
    a quarter of the run (not three quarters), 500 ms a call; set-up 2 s; the row's seconds still sum to 3 s."""
    timer = StageTimer("detector", MemoryProbe())
    timer.record(1.5, frames=0, count_call=False)  # building the model as the stream starts
    timer.record(0.5, frames=10)
    timer.record(0.5, frames=10)
    timer.record(0.5, frames=0, count_call=False)  # closing it
    report = timer.report(wall_s=4.0)
    assert (report.calls, report.frames, report.mean_ms) == (2, 20, 500.0)
    assert report.fps == 20.0 and report.share == 0.25 and report.setup_s == 2.0 and report.total_s == 3.0


def test_table_has_a_setup_column_and_its_footer_splits_the_wall_time():
    profiler = Profiler()
    with profiler.measure("stage", frames=0, count_call=False):
        pass
    with profiler.measure("stage", frames=3):
        pass
    profiler.stop()
    table = profiler.table()
    header, footer = table.splitlines()[0], table.splitlines()[-1]
    assert header.split()[:9] == ["stage", "calls", "frames", "mean", "ms", "p95", "ms", "fps", "share"]
    assert "setup s" in header
    assert footer.startswith(f"wall {profiler.wall_s:.2f} s = frame calls ")
    assert "+ set-up and close " in footer and "+ untimed " in footer


class FakeCuda:
    """Stands in for torch.cuda: records synchronisations and reports a peak per stage."""

    def __init__(self):
        self.events = []
        self.peak = 0

    def is_available(self):
        return True

    def is_initialized(self):
        return True

    def synchronize(self):
        self.events.append("sync")

    def reset_peak_memory_stats(self):
        self.events.append("reset")
        self.peak = 0

    def max_memory_allocated(self):
        return self.peak


def test_gpu_work_is_synchronised_and_charged_to_its_own_stage(monkeypatch):
    import sys
    import types

    cuda = FakeCuda()
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    profiler = Profiler()
    with profiler.measure("detector", frames=1):
        cuda.events.append("work")
        cuda.peak = 300 * 2**20
    with profiler.measure("tracker", frames=1):
        cuda.events.append("work")
        cuda.peak = 20 * 2**20
    # queued GPU work is flushed before a stage's clock starts and before it stops
    assert cuda.events == ["sync", "reset", "work", "sync"] * 2
    reports = {r.name: r for r in profiler.reports()}
    assert reports["detector"].peak_cuda_mb == 300 and reports["tracker"].peak_cuda_mb == 20
    assert "peak CUDA MB" in profiler.table()
