"""OcSort: equal to noahcao/OC_SORT's OCSort on recorded scenes; ORU, OCR, bounded state, empty and skipped frames."""

import json
from pathlib import Path

import numpy as np
import pytest

from videoanalyst.association import kalman_xysr
from videoanalyst.association.associator import associate
from videoanalyst.association.batched_kalman import kalman_predict, kalman_update
from videoanalyst.association.oc_sort import OcSort, box_similarity
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.errors import ConfigError
from videoanalyst.evaluators.mot import clear_identity_metrics, match_sequence
from videoanalyst.synthetic.scene import Scene, SceneConfig

DATA = Path(__file__).parent / "data"
#: MOTA and IDF1 of the reference on the fixtures' scene, as printed by
#: python evaluation/reference/noahcao_ocsort.py --reference /tmp/ref/OC_SORT --seeds 1 --frames 80 --objects 8
#:     --metrics [--use-byte --asso-func giou]
REFERENCE_METRICS = {"oc_sort_default.txt": (0.279646017699115, 0.42265193370165743),
                     "oc_sort_byte_giou.txt": (0.511504424778761, 0.639269406392694)}


def _read_fixture(path):
    """Settings, image size, per-frame input Detections and per-frame reference rows (id, x1, y1, x2, y2)."""
    settings, size, frames, dets, tracks = None, None, 0, {}, {}
    for line in path.read_text().splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "settings":
            settings = json.loads(rest)
        elif kind == "image":
            size = tuple(map(int, rest.split()))
        elif kind == "frames":
            frames = int(rest)
        elif kind in ("det", "trk"):
            values = rest.split()
            (dets if kind == "det" else tracks).setdefault(int(values[0]), []).append(list(map(float, values[1:])))
    detections = []
    for index in range(frames):
        rows = np.array(dets.get(index, []), np.float64).reshape(-1, 6)
        detections.append(Detections(xyxy=rows[:, :4], scores=rows[:, 4], class_ids=rows[:, 5].astype(np.int64)))
    expected = [np.array(tracks.get(index, []), np.float64).reshape(-1, 5) for index in range(frames)]
    return settings, size, detections, expected


def _run(tracker, frames, size=(640, 480)):
    """Feed `frames` (Detections, or None for a frame the detector skipped); the reported Detections a frame."""
    return list(associate(tracker, frames, *size))


def _box(x, y=200.0, width=100.0, height=80.0, score=0.9):
    return Detections(xyxy=[[x, y, x + width, y + height]], scores=[score], class_ids=[3])


@pytest.mark.parametrize("name", sorted(REFERENCE_METRICS))
def test_equals_the_reference_on_a_recorded_scene(name):
    """Same (frame, id) pairs and boxes as noahcao/OC_SORT 8462e7e's OCSort.update on 80 frames with occlusion,
    misses, empty frames and a 5-frame blackout (ORU 95 / 59 times, OCR and BYTE matches), recorded by

        python evaluation/reference/noahcao_ocsort.py --reference /tmp/ref/OC_SORT --seeds 1 \\
            --fixture tests/association/data/oc_sort_default.txt
        python evaluation/reference/noahcao_ocsort.py --reference /tmp/ref/OC_SORT --seeds 1 --use-byte \\
            --asso-func giou --fixture tests/association/data/oc_sort_byte_giou.txt

    Our boxes are float32: they must equal the reference's rounded to float32."""
    settings, size, detections, expected = _read_fixture(DATA / name)
    results = _run(OcSort(**settings), detections, size)
    assert sum(map(len, expected)) > 100
    for index, (ours, theirs) in enumerate(zip(results, expected)):
        theirs = theirs[np.argsort(theirs[:, 0])]
        ours = ours[np.argsort(ours.track_ids)]
        assert ours.track_ids.tolist() == theirs[:, 0].astype(int).tolist(), f"frame {index}"
        np.testing.assert_allclose(ours.xyxy, theirs[:, 1:].astype(np.float32), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", sorted(REFERENCE_METRICS))
def test_mota_and_idf1_equal_the_reference(name):
    settings, size, detections, _ = _read_fixture(DATA / name)
    scene = Scene(SceneConfig(width=640, height=480, num_frames=80, num_objects=8, seed=1, speed=0.015,
                              size_range=(0.1, 0.3)))
    truth = [scene.ground_truth(i) for i in range(80)]
    truth = [frame.replace(extra={"consider": np.ones(len(frame), np.int64)}) for frame in truth]
    metrics = clear_identity_metrics({"scene": match_sequence(truth, _run(OcSort(**settings), detections, size))})
    mota, idf1 = REFERENCE_METRICS[name]
    assert metrics["scene"]["MOTA"] == pytest.approx(mota, abs=1e-12)
    assert metrics["scene"]["IDF1"] == pytest.approx(idf1, abs=1e-12)


def _measurement(x1, y1, x2, y2):
    width, height = x2 - x1, y2 - y1
    return np.array([x1 + width / 2, y1 + height / 2, width * height, width / (height + 1e-6)])


def test_oru_replays_the_gap_through_interpolated_boxes():
    """A track that missed 5 frames and is matched again is re-updated from its state at its last observation
    through one box a frame, centre and size moving linearly to the new box; it ends up nearer the motion during
    the gap (4 px/frame, it moved 10 before) and more certain than a filter that only predicted through it."""
    seen = {t: 100.0 + 10 * t for t in range(12)}
    seen[17] = seen[11] + 6 * 4
    frames = [_box(seen[t]) if t in seen else Detections.empty() for t in range(18)]
    tracker = OcSort()
    _run(tracker, frames[:12])
    mean, covariance = tracker._tracks.mean.copy(), tracker._tracks.covariance.copy()
    image = np.zeros((480, 640, 3), np.uint8)
    for index in range(12, 18):
        packet = FramePacket("test", index, 0.0, image)
        packet.outputs[DETECTIONS] = frames[index]
        tracker.process(packet)

    start, end = _measurement(seen[11], 200, seen[11] + 100, 280), _measurement(seen[17], 200, seen[17] + 100, 280)
    start_size = np.sqrt([start[2] * start[3], start[2] / start[3]])
    end_size = np.sqrt([end[2] * end[3], end[2] / end[3]])
    mean, covariance = kalman_xysr.predict(mean, covariance)
    for step in range(1, 7):
        if step > 1:
            mean, covariance = kalman_predict(mean, covariance, kalman_xysr.MOTION, kalman_xysr.PROCESS_NOISE)
        centre = start[:2] + step * (end[:2] - start[:2]) / 6
        width, height = start_size + step * (end_size - start_size) / 6
        virtual = np.array([[*centre, width * height, width / height]])
        mean, covariance = kalman_update(mean, covariance, virtual, kalman_xysr.OBSERVATION,
                                         kalman_xysr.MEASUREMENT_NOISE)
    mean, covariance = kalman_update(mean, covariance, end[None], kalman_xysr.OBSERVATION,
                                     kalman_xysr.MEASUREMENT_NOISE)
    assert tracker._tracks.ids.tolist() == [1]
    np.testing.assert_allclose(tracker._tracks.mean, mean, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(tracker._tracks.covariance, covariance, rtol=1e-12, atol=1e-9)

    plain_mean, plain_covariance = kalman_xysr.initiate(frames[0].xyxy)
    for index in range(1, 18):
        plain_mean, plain_covariance = kalman_xysr.predict(plain_mean, plain_covariance)
        if index in seen:
            plain_mean, plain_covariance = kalman_xysr.update(plain_mean, plain_covariance, frames[index].xyxy)
    assert abs(tracker._tracks.mean[0, 4] - 4) < abs(plain_mean[0, 4] - 4)
    assert abs(tracker._tracks.mean[0, 0] - end[0]) < abs(plain_mean[0, 0] - end[0])
    assert np.trace(tracker._tracks.covariance[0]) < np.trace(plain_covariance[0])


def test_ocr_recovers_a_track_whose_prediction_ran_away():
    """An object moving 30 px/frame stops while it is missed for a frame: the predicted box (about 60 px on) no
    longer overlaps the 60 px box, but its last observation does, so OCR keeps its id and no track starts."""
    frames = [_box(20.0 + 30 * t, width=60, height=60) for t in range(10)]
    frames += [Detections.empty()] + [_box(20.0 + 30 * 9, width=60, height=60)] * 4
    tracker = OcSort()
    results = _run(tracker, frames[:10])
    assert tracker._tracks.mean[0, 4] > 25  # the filter's velocity: its prediction 2 frames on overlaps nothing
    results = _run(tracker, frames)
    assert [r.track_ids.tolist() for r in results[11:]] == [[], [], [1], [1]]
    assert tracker._tracks.ids.tolist() == [1]
    np.testing.assert_array_equal(results[-1].xyxy, frames[-1].xyxy)
    assert results[-1].scores.tolist() == pytest.approx([0.9]) and results[-1].class_ids.tolist() == [3]


def test_state_stays_bounded_on_a_long_stream():
    """Observations are kept for delta_t frames only and tracks end after max_age misses: after 1,000 frames of
    three objects (with misses) the state is as large as after 100; after max_age + 1 empty frames it is empty."""
    rng = np.random.default_rng(0)

    def frame(t):
        keep = rng.random(3) > 0.2
        xs = 50.0 + 150 * np.arange(3) + 20 * np.sin(t / 30)
        boxes = np.stack([xs, np.full(3, 100.0), xs + 60, np.full(3, 180.0)], axis=1)[keep]
        return Detections(xyxy=boxes, scores=np.full(len(boxes), 0.9))

    tracker = OcSort(delta_t=3, max_age=30)
    _run(tracker, [frame(t) for t in range(100)])
    early = sum(getattr(tracker._tracks, name).nbytes for name in vars(tracker._tracks))
    _run(tracker, [frame(t) for t in range(1000)])
    assert len(tracker._tracks) == 3 and tracker._tracks.recent.shape == (3, 3, 5)
    assert sum(getattr(tracker._tracks, name).nbytes for name in vars(tracker._tracks)) == early
    results = _run(tracker, [frame(t) for t in range(100)] + [Detections.empty()] * 31)
    assert len(tracker._tracks) == 0 and all(len(r) == 0 for r in results[100:])


def test_empty_frames_and_skipped_frames():
    """An empty first frame, and a skip with no tracks, report nothing; an empty frame is a miss (the track is
    hidden until it is matched min_hits times again); a skipped frame reports the predicted box of the tracks the
    last frame reported and breaks no hit streak."""
    moving = [_box(100.0 + 5 * t) for t in range(12)]
    frames = [Detections.empty(), None] + moving[:5] + [None] + moving[6:8] + [Detections.empty()] + moving[9:12]
    results = _run(OcSort(), frames)
    # Shown while the stream is young (frames 1-3 of the detector), then from the 3rd match in a row on.
    assert [r.track_ids.tolist() for r in results] == [[], [], [1], [1], [], [1], [1], [1], [1], [1], [], [], [],
                                                       [1]]
    skipped = results[7]
    assert skipped.xyxy.dtype == np.float32 and skipped.xyxy[0, 0] == pytest.approx(100.0 + 5 * 5, abs=0.5)
    assert not np.array_equal(skipped.xyxy, moving[4].xyxy)


def test_ids_restart_per_stream_and_bad_settings_are_refused():
    tracker = OcSort()
    first = _run(tracker, [_box(100.0), _box(102.0)])
    second = _run(tracker, [_box(300.0), _box(302.0)])
    assert first[-1].track_ids.tolist() == second[-1].track_ids.tolist() == [1]
    with pytest.raises(ConfigError, match="asso_func"):
        OcSort(asso_func="ct_dist")
    with pytest.raises(ConfigError, match="delta_t"):
        OcSort(delta_t=0)


def test_box_similarities_by_hand():
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[5.0, 0.0, 15.0, 10.0], [20.0, 0.0, 30.0, 10.0]])
    np.testing.assert_allclose(box_similarity("iou", a, b), [[50 / 150, 0.0]])
    # GIoU: enclosing 15 x 10 vs union 150; 30 x 10 vs 200.
    np.testing.assert_allclose(box_similarity("giou", a, b), [[(1 / 3 + 1) / 2, (-100 / 300 + 1) / 2]])
    # DIoU: centre distance 5 (diagonal^2 225 + 100) and 20 (900 + 100).
    np.testing.assert_allclose(box_similarity("diou", a, b), [[(1 / 3 - 25 / 325 + 1) / 2, (-400 / 1000 + 1) / 2]])
    np.testing.assert_allclose(box_similarity("ciou", a, b), box_similarity("diou", a, b))  # same aspect ratios


def test_a_box_summing_below_zero_counts_as_no_observation_as_in_the_original():
    """The original tells "no observation yet" (its placeholder is -1s) by box + score summing below 0: a track
    whose detections lie far enough up-left of the image reports its Kalman box, not the detection, and keeps no
    direction. Equal to the reference on such boxes (checked with the driver's Reference on a crafted stream)."""
    frames = [_box(-150.0 + t, y=-100.0) for t in range(4)]
    tracker = OcSort()
    results = _run(tracker, frames)
    assert results[-1].track_ids.tolist() == [1]
    assert not np.array_equal(results[-1].xyxy, frames[-1].xyxy)
    np.testing.assert_allclose(results[-1].xyxy, frames[-1].xyxy, atol=2.0)
    assert tracker._tracks.direction.tolist() == [[0.0, 0.0]]
