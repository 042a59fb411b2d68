"""SORT stage: the original's tracks on recorded detections, and its rules for misses, skipped frames, ids and state."""

from pathlib import Path

import numpy as np
import pytest

from videoanalyst.association.associator import associate
from videoanalyst.association.sort import Sort
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.errors import ConfigError, InputError
from videoanalyst.evaluators.mot import COMBINED, evaluate_sequences, match_sequence
from videoanalyst.synthetic.scene import Scene, SceneConfig

DATA = Path(__file__).parent / "data"
WIDTH, HEIGHT = 640, 480


def _fixture_detections():
    rows = np.loadtxt(DATA / "sort_detections.csv", delimiter=",", ndmin=2)
    return [Detections(xyxy=rows[rows[:, 0] == frame, 1:5], scores=rows[rows[:, 0] == frame, 5],
                       class_ids=rows[rows[:, 0] == frame, 6]) for frame in range(1, 101)]


def _run(stage, frames, stream="s"):
    """Our stage over a stream; None in `frames` is a frame the detector skipped."""
    return list(associate(stage, frames, WIDTH, HEIGHT, stream))


def _box(x, y=100.0, size=40.0):
    return Detections(xyxy=[[x, y, x + size, y + size]], scores=[0.9], class_ids=[2])


def test_same_ids_and_boxes_as_the_original_on_its_recorded_run():
    """Fixture: `PYTHONPATH=. python evaluation/sort_vs_original.py --reference /tmp/ref/sort --write-fixture
    tests/association/data` (abewley/sort 2236dff on a 100-frame, 10-object scene with occlusions and a detector
    outage at frames 41-43). Our boxes are float32 (`Detections`): equal to the original's rounded to float32."""
    outputs = _run(Sort(), _fixture_detections())
    original = np.loadtxt(DATA / "sort_original.csv", delimiter=",", ndmin=2)
    assert len(original) == sum(map(len, outputs)) == 395
    for frame, tracks in enumerate(outputs, 1):
        expected = original[original[:, 0] == frame]
        expected = expected[np.argsort(expected[:, 1])]
        order = np.argsort(tracks.track_ids)
        assert tracks.track_ids[order].tolist() == expected[:, 1].astype(int).tolist(), f"frame {frame}"
        np.testing.assert_allclose(tracks.xyxy[order], expected[:, 2:].astype(np.float32), rtol=0, atol=1e-6)
        np.testing.assert_allclose(tracks.xyxy[order], expected[:, 2:], rtol=0, atol=2.5e-4)
    assert all(len(outputs[k]) == 0 for k in (40, 41, 42))


def test_mota_and_idf1_equal_the_originals_on_the_fixture_scene():
    """The original's numbers, from the fixture command above: MOTA 0.494750656167979, IDF1 0.39066551426101986."""
    scene = Scene(SceneConfig(width=WIDTH, height=HEIGHT, num_frames=100, num_objects=10, seed=3))
    truth = [scene.ground_truth(i) for i in range(100)]
    truth = [gt.replace(extra={**gt.extra, "consider": np.ones(len(gt), np.int64)}) for gt in truth]
    row = evaluate_sequences({"scene": match_sequence(truth, _run(Sort(), _fixture_detections()))})[COMBINED]
    assert row["MOTA"] == pytest.approx(0.494750656167979, abs=1e-12)
    assert row["IDF1"] == pytest.approx(0.39066551426101986, abs=1e-12)


def test_a_track_is_reported_after_min_hits_matches_with_its_detections_score_and_class():
    outputs = _run(Sort(min_hits=3), [_box(10.0 + 5 * k) for k in range(6)])
    # The first min_hits frames report every matched track; then a new one would need a streak of 3.
    assert [o.track_ids.tolist() for o in outputs] == [[1]] * 6
    assert outputs[5].scores.tolist() == pytest.approx([0.9]) and outputs[5].class_ids.tolist() == [2]
    assert outputs[0].xyxy.dtype == np.float32
    np.testing.assert_allclose(outputs[0].xyxy, _box(10.0).xyxy, atol=1e-4)


@pytest.mark.parametrize("gap, same_id, reported", [(1, True, [0, 0, 1, 1]), (2, False, [0, 0, 0, 1])])
def test_empty_frames_age_tracks_until_max_age(gap, same_id, reported):
    frames = [_box(10.0 + 5 * k) for k in range(8)] + [Detections.empty()] * gap
    frames += [_box(10.0 + 5 * k) for k in range(8 + gap, 8 + gap + 4)]
    outputs = _run(Sort(max_age=1, min_hits=3), frames)
    assert all(len(outputs[k]) == 0 for k in range(8, 8 + gap))
    back = outputs[8 + gap:]
    # One empty frame (max_age 1): the track lives on, but its streak starts again: 3 matches before it is shown.
    # Two: it was deleted; a new track starts from the detection (streak 0) and is shown after 3 more matches.
    assert [len(o) for o in back] == reported
    assert back[-1].track_ids.tolist() == ([1] if same_id else [2])


def test_skipped_frames_report_predicted_boxes_and_count_no_miss():
    frames = [_box(10.0 + 5 * k) for k in range(6)] + [None, None] + [_box(50.0), _box(55.0)]
    outputs = _run(Sort(max_age=1), frames)
    predicted = outputs[6:8]
    assert [o.track_ids.tolist() for o in predicted] == [[1], [1]]
    assert predicted[1].xyxy[0, 0] > predicted[0].xyxy[0, 0] > outputs[5].xyxy[0, 0]  # moving on
    assert predicted[0].scores.tolist() == pytest.approx([0.9])
    # No miss was counted: the track survives two skipped frames with max_age 1 and keeps its streak.
    assert [o.track_ids.tolist() for o in outputs[8:]] == [[1], [1]]


def test_ids_restart_at_one_in_every_stream():
    stage = Sort()
    three = Detections.concatenate([_box(10.0), _box(200.0), _box(400.0)])
    first = _run(stage, [three] * 3, stream="a")
    second = _run(stage, [_box(200.0)] * 3, stream="b")
    assert sorted(first[-1].track_ids.tolist()) == [1, 2, 3] and second[-1].track_ids.tolist() == [1]


def test_state_stays_bounded_on_a_long_stream_with_churn():
    rng = np.random.default_rng(0)
    stage = Sort()
    stage.reset(StreamInfo("long", WIDTH, HEIGHT))
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    largest = 0
    for index in range(3000):
        corner = rng.uniform(0, 560, (int(rng.integers(0, 8)), 2))
        packet = FramePacket("long", index, index / 25, image)
        packet.outputs[DETECTIONS] = Detections(xyxy=np.concatenate([corner, corner + 40], axis=1))
        stage.process(packet)
        largest = max(largest, stage._tracks.shape[2])
    assert largest <= 2 * 7  # this frame's new tracks plus the last frame's, at most
    assert stage._next_id > 3000  # thousands of tracks came and went


def test_nan_boxes_are_refused_by_the_associator_contract():
    with pytest.raises(InputError, match="frame 0 of 's'"):
        _run(Sort(), [Detections(xyxy=[[0.0, 0.0, np.nan, 10.0]])])


@pytest.mark.parametrize("kwargs", [{"max_age": -1}, {"min_hits": -2}, {"iou_threshold": 1.5}])
def test_bad_settings_are_config_errors(kwargs):
    with pytest.raises(ConfigError, match="sort"):
        Sort(**kwargs)
