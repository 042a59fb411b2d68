"""The siamfcpp pipeline stage: initial boxes from `init` or ground truth, outputs for one or many targets,
streams batched together without mixing, and the result files a run writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from videoanalyst.core import DETECTIONS, TARGET
from videoanalyst.errors import InputError
from videoanalyst.models.siamfcpp import siamfcpp_alexnet
from videoanalyst.models.siamfcpp.random_weights import randomize_
from videoanalyst.pipeline.build import run_pipeline
from videoanalyst.sources.synthetic import SyntheticSource


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "random.pt"
    torch.save(randomize_(siamfcpp_alexnet(), seed=0).state_dict(), path)
    return str(path)


def _pipeline(weights, output, **stage):
    return {
        "source": {"type": "synthetic", "num_frames": 4, "num_streams": 2, "width": 160, "height": 120},
        "stages": [{"type": "siamfcpp", "weights": weights, **stage}],
        "sinks": [{"type": "json_lines"}],
        "output": str(output),
        "progress": False,
    }


def test_one_init_box_gives_a_target_state_per_frame(tmp_path, weights):
    report = run_pipeline(_pipeline(weights, tmp_path, init=[[40, 30, 30, 40]]), print_profile=False)
    assert report.frames == {"synthetic-000": 4, "synthetic-001": 4}
    rows = (tmp_path / "synthetic-000.jsonl").read_text().splitlines()
    assert len(rows) == 4 and f'"{TARGET}"' in rows[0]
    assert '"xyxy": [40.0, 30.0, 70.0, 70.0]' in rows[0]  # the first frame carries the init box


def test_ground_truth_starts_every_object_with_its_id(tmp_path, weights):
    from videoanalyst.sinks.json_lines import JsonLinesSink  # noqa: F401  (the sink the rows come from)

    run_pipeline(_pipeline(weights, tmp_path), print_profile=False)
    first = (tmp_path / "synthetic-000.jsonl").read_text().splitlines()[0]
    assert f'"{DETECTIONS}"' in first and '"track_id"' in first


def test_streams_tracked_together_equal_streams_tracked_alone(weights):
    from videoanalyst.trackers.siamfcpp import SiamFCpp

    source = SyntheticSource(num_frames=5, num_streams=2, width=160, height=120)
    together, alone = SiamFCpp(weights=weights), SiamFCpp(weights=weights)
    streams = [list(stream) for stream in source.streams()]
    infos = [stream.info for stream in SyntheticSource(num_frames=5, num_streams=2, width=160, height=120).streams()]
    for info in infos:
        together.reset(info)
    for a, b in zip(*streams):
        together.process_batch([a, b])
    last_together = [streams[0][-1].outputs[DETECTIONS].xyxy, streams[1][-1].outputs[DETECTIONS].xyxy]
    for info, packets in zip(infos, [list(s) for s in source.streams()]):
        alone.reset(info)
        alone.process_batch(packets)
        np.testing.assert_allclose(packets[-1].outputs[DETECTIONS].xyxy, last_together[infos.index(info)], atol=1e-3)


def test_no_initial_box_is_one_clear_error(weights):
    from videoanalyst.core import FramePacket
    from videoanalyst.core.stage import StreamInfo
    from videoanalyst.trackers.siamfcpp import SiamFCpp

    stage = SiamFCpp(weights=weights)
    stage.reset(StreamInfo("clip", 64, 48))
    with pytest.raises(InputError, match="stream 'clip', frame 0: siamfcpp needs initial boxes: set `init`"):
        stage.process(FramePacket("clip", 0, 0.0, np.zeros((48, 64, 3), np.uint8)))


def test_a_network_giving_nan_stops_the_run_naming_the_stream_and_frame(tmp_path, weights, monkeypatch):
    """NaN weights (as a broken file gives, and the loader's finite check cannot see once a network overflows)
    make NaN boxes: the run stops at the first one instead of writing `nan` rows."""
    from videoanalyst.experiments import Experiment

    build = Experiment.build_tracker

    def nan_network(self, *args, **kwargs):
        tracker, path = build(self, *args, **kwargs)
        with torch.no_grad():
            for parameter in tracker.network.parameters():
                parameter.fill_(float("nan"))
        return tracker, path

    monkeypatch.setattr(Experiment, "build_tracker", nan_network)
    with pytest.raises(InputError, match=r"stream 'synthetic-000', frame 1: siamfcpp: the network produced "
                                         r"non-finite boxes or scores with the weights .*random\.pt; check"):
        run_pipeline(_pipeline(weights, tmp_path, init=[[40, 30, 30, 40]]), print_profile=False)
