import numpy as np
import pytest

from videoanalyst.core import Detections, FramePacket, StreamInfo, TargetState
from videoanalyst.detectors.oracle_detector import OracleDetector
from videoanalyst.errors import InputError

TRUTH = Detections(xyxy=[[10, 10, 50, 90], [100, 20, 140, 100], [200, 50, 220, 90]], class_ids=[1, 1, 1],
                   track_ids=[1, 2, 3], extra={"visibility": np.array([1.0, 0.6, 0.05], np.float32)})


def run(detector, stream="s", frames=50):
    detector.reset(StreamInfo(stream, 320, 240))
    out = []
    for i in range(frames):
        p = FramePacket(stream, i, i / 25, np.zeros((240, 320, 3), np.uint8))
        p.outputs["ground_truth"] = TRUTH
        detector.process(p)
        out.append(p.outputs["detections"])
    return out


def test_exact_oracle_returns_the_visible_truth():
    dets = run(OracleDetector(jitter=0, miss_rate=0, false_positives=0, min_visibility=0.2, keep_identities=True))
    for d in dets:
        np.testing.assert_array_equal(d.xyxy, TRUTH.xyxy[:2])  # the 5 %-visible box is never detected
        assert d.track_ids.tolist() == [1, 2]


def test_noise_statistics_follow_the_settings():
    settings = dict(jitter=0.05, miss_rate=0.3, false_positives=2.0, min_visibility=0.0)
    anonymous = run(OracleDetector(**settings))
    assert all((d.track_ids == -1).all() for d in anonymous)  # a detector assigns no identities
    dets = run(OracleDetector(**settings, keep_identities=True), frames=400)  # ids tell true boxes from spurious
    kept = sum(int((d.track_ids >= 0).sum()) for d in dets) / (3 * 400)
    assert kept == pytest.approx(0.7, abs=0.05)
    spurious = sum(int((d.track_ids < 0).sum()) for d in dets) / 400
    assert spurious == pytest.approx(2.0, abs=0.25)
    truth = {i: box for i, box in zip(TRUTH.track_ids, TRUTH.xyxy)}
    size = np.array([40, 80, 40, 80])  # both boxes are 40 x 80
    errors = np.concatenate([(d.xyxy[d.track_ids == i] - truth[i]) / size for d in dets for i in (1, 2)])
    assert errors.std() == pytest.approx(0.05, rel=0.2)  # corner noise is 5 % of the box size


def test_each_stream_is_reproducible_and_streams_differ():
    detector = OracleDetector()
    a1, b, a2 = run(detector, "a"), run(detector, "b"), run(detector, "a")
    assert all(np.array_equal(x.xyxy, y.xyxy) for x, y in zip(a1, a2))
    assert not all(len(x) == len(y) and np.array_equal(x.xyxy, y.xyxy) for x, y in zip(a1, b))


def test_needs_multi_object_ground_truth():
    detector = OracleDetector()
    detector.reset(StreamInfo("s", 32, 32))
    p = FramePacket("s", 7, 0.0, np.zeros((32, 32, 3), np.uint8))
    p.outputs["ground_truth"] = TargetState([1, 2, 3, 4])
    with pytest.raises(InputError, match="frame 7 of 's' has a TargetState"):
        detector.process(p)
