import json

import numpy as np

from videoanalyst.pipeline.profiler import LatencyHistogram, Profiler


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
    assert stage["peak_rss_mb"] > 1 and data["wall_s"] >= stage["total_s"]
    assert stage["peak_cuda_mb"] is None  # no CUDA in this process
