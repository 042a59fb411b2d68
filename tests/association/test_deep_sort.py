"""DeepSort reports what nwojke/deep_sort reports, keeps identities through occlusions by appearance, and keeps its
state bounded.

The fixtures deep_sort_detections.txt (a synthetic scene's detections and features) and
deep_sort_reference_tracks.txt (nwojke/deep_sort f08cf1d's output on them, run as its deep_sort_app.py does) were made
by ``PYTHONPATH=. python evaluation/reference/nwojke_deep_sort.py --reference /tmp/ref/deep_sort fixtures --out
tests/association/data``.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from videoanalyst.association.associator import associate
from videoanalyst.association.deep_sort import DeepSort
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.errors import InputError
from videoanalyst.evaluators.mot import COMBINED, evaluate_sequences, match_sequence
from videoanalyst.synthetic.scene import Scene, SceneConfig

DATA = Path(__file__).parent / "data"
IMAGE = np.zeros((240, 320, 3), np.uint8)


def _header(path):
    """The `# key: json` lines of a fixture."""
    lines = [line[2:] for line in path.read_text().splitlines() if line.startswith("# ") and ": {" in line]
    return {key: json.loads(value) for key, _, value in (line.partition(": ") for line in lines)}


def _fixture_frames():
    header = _header(DATA / "deep_sort_detections.txt")
    config = header["scene"]
    config = SceneConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()})
    rows = np.loadtxt(DATA / "deep_sort_detections.txt", delimiter=",", comments="#", ndmin=2)
    frames = []
    for index in range(config.num_frames):
        row = rows[rows[:, 0] == index]
        frames.append(Detections(row[:, 1:5].astype(np.float32), scores=row[:, 5].astype(np.float32),
                                 class_ids=row[:, 6], embeddings=row[:, 7:].astype(np.float32)))
    return config, header, frames


def _run(tracker, frames, stream="s"):
    """Feed `frames` (Detections, or None for a frame the detector skipped) through the stage; its outputs."""
    return list(associate(tracker, frames, IMAGE.shape[1], IMAGE.shape[0], stream))


def _box(x, y, width=40.0, height=80.0):
    return [x, y, x + width, y + height]


def test_same_frames_ids_and_boxes_as_the_reference():
    _, header, frames = _fixture_frames()
    settings = header["settings"]
    tracker = DeepSort(max_appearance_distance=settings["max_cosine_distance"], nn_budget=settings["nn_budget"],
                       min_confidence=settings["min_confidence"], nms_max_overlap=settings["nms_max_overlap"],
                       min_detection_height=settings["min_detection_height"])
    reference = np.loadtxt(DATA / "deep_sort_reference_tracks.txt", delimiter=",", comments="#", ndmin=2)
    tracker.reset(StreamInfo("fixture", IMAGE.shape[1], IMAGE.shape[0]))
    for index, detections in enumerate(frames):
        packet = FramePacket("fixture", index, 0.0, IMAGE)
        packet.outputs[DETECTIONS] = detections
        tracker.process(packet)
        expected = reference[reference[:, 0] == index]
        ids, boxes = tracker.reported_boxes()
        assert ids.tolist() == expected[:, 1].astype(int).tolist(), f"frame {index}"
        np.testing.assert_allclose(boxes, expected[:, 2:6], rtol=0, atol=1e-6, err_msg=f"frame {index}")
        output = packet.outputs[DETECTIONS]
        assert output.track_ids.tolist() == ids.tolist()
        assert output.xyxy.dtype == np.float32
        np.testing.assert_allclose(output.xyxy, expected[:, 2:6], rtol=1e-6)
    assert len(reference) > 200 and len(np.unique(reference[:, 1])) > 5


def test_mota_and_idf1_equal_the_reference_numbers_measured_by_the_driver():
    config, header, frames = _fixture_frames()
    outputs = _run(DeepSort(), frames)
    scene = Scene(config)
    truth = [scene.ground_truth(i) for i in range(config.num_frames)]
    truth = [t.replace(extra={**t.extra, "consider": np.ones(len(t), np.int64)}) for t in truth]
    metrics = evaluate_sequences({"fixture": match_sequence(truth, outputs)})[COMBINED]
    reference = header["reference metrics"]  # MOTA 0.669, IDF1 0.566
    assert metrics["MOTA"] == pytest.approx(reference["MOTA"], abs=1e-9)
    assert metrics["IDF1"] == pytest.approx(reference["IDF1"], abs=1e-9)
    assert metrics["MOTA"] > 0.6


def _crossing(distinctive: bool, dim: int = 32):
    """A walks right, B walks left; B hides A in frames 20-29 (A undetected there); they cross at frame 25.

    Features are the object's own unit vector plus noise when `distinctive`, else a fresh random vector each frame.
    """
    rng = np.random.default_rng(0)
    prototypes = np.eye(2, dim)
    frames = []
    for t in range(45):
        boxes = [_box(220 - 4 * t, 100)] + ([] if 20 <= t < 30 else [_box(20 + 4 * t, 100)])
        identity = prototypes[: len(boxes)] if distinctive else rng.normal(size=(len(boxes), dim))
        features = identity + rng.normal(0, 0.05, (len(boxes), dim))
        frames.append(Detections(np.array(boxes), scores=np.full(len(boxes), 0.9), embeddings=features))
    return frames


def _id_at(output, box):
    """Id of the reported box overlapping `box` most (IoU > 0.5), else None."""
    for track_id, reported in zip(output.track_ids, output.xyxy):
        low, high = np.maximum(reported[:2], box[:2]), np.minimum(reported[2:], box[2:])
        inter = np.prod(np.clip(high - low, 0, None))
        union = np.prod(reported[2:] - reported[:2]) + np.prod(np.subtract(box[2:], box[:2])) - inter
        if inter / union > 0.5:
            return int(track_id)
    return None


@pytest.mark.parametrize("distinctive", [True, False])
def test_identity_through_a_ten_frame_occlusion_needs_appearance(distinctive):
    outputs = _run(DeepSort(), _crossing(distinctive))
    a_before = {_id_at(outputs[t], _box(20 + 4 * t, 100)) for t in range(5, 20)}
    a_after = {_id_at(outputs[t], _box(20 + 4 * t, 100)) for t in range(33, 45)}
    b_ids = {_id_at(outputs[t], _box(220 - 4 * t, 100)) for t in range(5, 45)}
    assert len(a_before) == 1 and len(a_after) == 1 and len(b_ids) == 1 and None not in a_before | a_after | b_ids
    assert b_ids.isdisjoint(a_before | a_after)
    # Only the appearance cascade can re-link a track missed for 10 frames (IoU matching takes 1-frame gaps only).
    assert (a_before == a_after) is distinctive


def _static_object(frames_seen):
    feature = np.eye(1, 16)
    return [Detections(np.array([_box(100, 50)]), scores=[0.9], embeddings=feature) if seen else Detections.empty()
            for seen in frames_seen]


@pytest.mark.parametrize("gap, same_id", [(29, True), (30, False)])
def test_empty_frames_age_tracks_until_max_age(gap, same_id):
    outputs = _run(DeepSort(max_age=30), _static_object([True] * 5 + [False] * gap + [True] * 4))
    assert outputs[4].track_ids.tolist() == [1]
    assert outputs[5].track_ids.tolist() == [1]  # reported once more, predicted, on its first missed frame
    assert all(len(output) == 0 for output in outputs[6: 5 + gap])
    back = outputs[5 + gap]
    if same_id:  # re-linked by the cascade at depth 30
        assert back.track_ids.tolist() == [1]
    else:  # gone after 30 misses, its features with it: a new tentative track, reported once confirmed
        assert len(back) == 0 and outputs[7 + gap].track_ids.tolist() == [2]


def test_state_stays_bounded_on_a_long_stream_of_clutter():
    """One object seen all along plus 3 random boxes a frame: tracks end, slots are reused, memory stays flat."""
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(400):
        corners = rng.uniform(0, 250, (3, 2))
        boxes = np.concatenate([[_box(100, 50)], np.concatenate([corners, corners + 30], axis=1)])
        features = np.concatenate([np.eye(1, 16), rng.normal(size=(3, 16))])
        frames.append(Detections(boxes, scores=[0.95, 0.9, 0.9, 0.9], embeddings=features))
    tracker = DeepSort(nn_budget=20)
    outputs = _run(tracker, frames)
    assert all(output.track_ids.tolist() == [1] for output in outputs[2:])
    capacity, budget, _ = tracker._gallery._features.shape
    assert len(tracker._tracks) <= 10 and capacity <= 16 and budget == 20


def test_nothing_to_report_on_empty_streams():
    outputs = _run(DeepSort(), [Detections.empty()] * 3)
    assert [len(output) for output in outputs] == [0, 0, 0]


def test_skipped_frames_predict_and_count_no_miss():
    moving = [Detections(np.array([_box(20 + 5 * t, 50)]), scores=[0.9], embeddings=np.eye(1, 8)) for t in range(10)]
    outputs = _run(DeepSort(), moving[:6] + [None, None] + moving[8:])
    for t in (6, 7):  # predicted boxes move on with the track's velocity
        assert outputs[t].track_ids.tolist() == [1]
        assert outputs[t - 1].xyxy[0, 0] + 3 < outputs[t].xyxy[0, 0] < 20 + 5 * t
    assert outputs[9].track_ids.tolist() == [1]
    # A tentative track survives a skipped frame (no miss), not an empty one (a miss deletes it).
    skipped = _run(DeepSort(), [moving[0], moving[1], None, moving[3]])
    empty = _run(DeepSort(), [moving[0], moving[1], Detections.empty(), moving[3]])
    assert skipped[3].track_ids.tolist() == [1]
    assert len(empty[3]) == 0


def test_non_maximum_suppression_uses_the_references_overlap_not_iou():
    """A small box inside a larger, higher-scoring one: IoU 0.06, but its whole area overlaps, so it is
    suppressed at nms_max_overlap 0.5 (torchvision's IoU NMS would keep it)."""
    boxes = np.array([_box(50, 50, 100, 200), _box(60, 60, 20, 30)])
    frames = [Detections(boxes, scores=[0.9, 0.8], embeddings=np.eye(2, 8))] * 4
    assert _run(DeepSort(nms_max_overlap=0.5), frames)[3].track_ids.tolist() == [1]
    assert sorted(_run(DeepSort(), frames)[3].track_ids.tolist()) == [1, 2]


def test_confidence_filter_scores_classes_and_ids_restarting_per_stream():
    frames = [Detections(np.array([_box(20, 50), _box(200, 50)]), scores=[0.9, 0.2], class_ids=[3, 4],
                         embeddings=np.eye(2, 8))] * 4
    tracker = DeepSort()
    first = _run(tracker, frames, "one")
    assert first[3].track_ids.tolist() == [1] and first[3].class_ids.tolist() == [3]
    assert first[3].scores.tolist() == pytest.approx([0.9])
    second = _run(tracker, frames, "two")
    assert second[3].track_ids.tolist() == [1]


def test_detections_without_embeddings_name_the_frame():
    frames = [Detections(np.array([_box(20, 50)]), embeddings=np.eye(1, 8)), Detections(np.array([_box(20, 50)]))]
    with pytest.raises(InputError, match=r"frame 1 of 's'.*ReID stage"):
        _run(DeepSort(), frames)
    wrong_size = [frames[0], Detections(np.array([_box(20, 50)]), embeddings=np.eye(1, 4))]
    with pytest.raises(InputError, match="dimension 4; earlier frames had 8"):
        _run(DeepSort(), wrong_size)
