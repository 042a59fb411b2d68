import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from videoanalyst.association import tracktor as tracktor_module
from videoanalyst.association.matching import iou_matrix
from videoanalyst.association.tracktor import Tracktor
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.errors import ConfigError
from videoanalyst.synthetic.scene import Scene, SceneConfig

PERSON_SCORE = 1 / (1 + 90 * np.exp(-10.0))  # softmax over 91 classes with the person logit 10 above the rest


def still_tracker(width: int, height: int, **kwargs) -> Tracktor:
    """A random-weight Tracktor whose box head regresses every box onto itself with score PERSON_SCORE."""
    torch.manual_seed(0)
    tracker = Tracktor(detector_weights=None, device="cpu", min_size=96, max_size=160, **kwargs)
    predictor = tracker.model.roi_heads.box_predictor
    for layer in (predictor.cls_score, predictor.bbox_pred):
        torch.nn.init.zeros_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    predictor.cls_score.bias.data[1] = 10.0
    tracker.reset(StreamInfo("test", width, height))
    return tracker


def run(tracker: Tracktor, index: int, image: np.ndarray, detections: Detections | None) -> Detections:
    """One frame through the stage; detections None is a frame the detector skipped."""
    packet = FramePacket("test", index, index / 25, image)
    if detections is not None:
        packet.outputs[DETECTIONS] = detections
    tracker.process(packet)
    return packet.outputs[DETECTIONS]


def noise_image(height: int = 120, width: int = 160) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


BOXES = np.array([[10.5, 12.25, 50.0, 90.0], [100.0, 20.0, 150.0, 110.5]], np.float32)


def test_tracks_regressed_by_zero_deltas_stay_put_and_cover_their_detections():
    tracker = still_tracker(160, 120)
    image = noise_image()
    first = run(tracker, 0, image, Detections(BOXES, scores=[0.9, 0.8]))
    np.testing.assert_array_equal(first.track_ids, [1, 2])
    np.testing.assert_allclose(first.scores, [0.9, 0.8])
    jittered = Detections(BOXES + 1.5, scores=[0.95, 0.95])  # IoU with its track > 0.3: no new track
    for index, detections in enumerate([jittered, None, Detections.empty(), jittered], start=1):
        tracks = run(tracker, index, image, detections)
        np.testing.assert_array_equal(tracks.track_ids, [1, 2])
        np.testing.assert_allclose(tracks.xyxy, BOXES, atol=1e-3)
        np.testing.assert_allclose(tracks.scores, PERSON_SCORE, rtol=1e-5)
        np.testing.assert_array_equal(tracks.class_ids, [1, 1])


def test_nms_ends_the_duplicate_of_two_overlapping_tracks():
    # IoU 0.25: both start tracks (detection NMS at 0.3), then regression NMS at 0.2 ends one of them.
    overlapping = np.array([[0.0, 0.0, 40.0, 40.0], [24.0, 0.0, 64.0, 40.0]], np.float32)
    assert iou_matrix(overlapping[:1], overlapping[1:])[0, 0] == pytest.approx(0.25)
    tracker = still_tracker(160, 120, regression_nms_thresh=0.2)
    image = noise_image()
    assert len(run(tracker, 0, image, Detections(overlapping, scores=[0.9, 0.9]))) == 2
    survivors = run(tracker, 1, image, Detections.empty())
    assert len(survivors) == 1
    kept = int(survivors.track_ids[0])
    np.testing.assert_allclose(survivors.xyxy[0], overlapping[kept - 1], atol=1e-3)
    assert len(run(tracker, 2, image, Detections.empty())) == 1


class FakeReid:
    """Embeds a box as the one-hot vector of the known object it overlaps most."""

    def __init__(self, objects: np.ndarray) -> None:
        self.objects = objects

    def to(self, device):
        return self

    def embed(self, image, boxes):
        nearest = iou_matrix(boxes.numpy(), self.objects).argmax(axis=1)
        return torch.eye(len(self.objects))[torch.from_numpy(nearest)]


@pytest.mark.parametrize("gap, same_id", [(1, True), (3, True), (4, False)])
def test_an_ended_track_is_reidentified_within_inactive_patience_only(monkeypatch, gap, same_id):
    objects = np.array([[10.0, 10.0, 50.0, 90.0], [100.0, 20.0, 150.0, 100.0]])
    visible = {0: True, 1: True}

    def regress(model, frame, boxes, class_id):  # boxes stay; an object out of sight scores 0.1
        overlap = iou_matrix(boxes.numpy(), objects)
        seen = np.array([visible[k] for k in range(len(objects))])
        scores = np.where((overlap > 0.5) & seen, 0.9, 0.1).max(axis=1)
        return boxes.clone(), torch.from_numpy(scores)

    monkeypatch.setattr(tracktor_module, "regress_boxes", regress)
    monkeypatch.setattr(tracktor_module, "frame_features", lambda model, image: None)
    monkeypatch.setattr(tracktor_module, "build_reid", lambda *args, **kwargs: FakeReid(objects))
    tracker = still_tracker(160, 120, reid_weights="fake", inactive_patience=3, max_features_num=2,
                            do_align=False)
    image = noise_image()

    def frame(index):
        seen = [k for k in range(len(objects)) if visible[k]]
        return run(tracker, index, image, Detections(objects[seen], scores=np.full(len(seen), 0.9)))

    for index in range(3):
        np.testing.assert_array_equal(frame(index).track_ids, [1, 2])
    assert tracker._active.features.shape == (2, 2, 2)  # bounded by max_features_num
    visible[0] = False
    for index in range(3, 3 + gap):
        np.testing.assert_array_equal(frame(index).track_ids, [2])
    assert len(tracker._inactive) == (1 if same_id else 0)
    visible[0] = True
    tracks = frame(3 + gap)
    np.testing.assert_array_equal(sorted(tracks.track_ids), [1, 2] if same_id else [2, 3])
    np.testing.assert_allclose(tracks.xyxy[tracks.track_ids != 2][0], objects[0])


@pytest.mark.parametrize("do_align", [True, False])
def test_camera_motion_moves_the_tracks_with_a_panning_camera(do_align):
    scene = Scene(SceneConfig(width=160, height=120, num_frames=12, num_objects=3, seed=3, camera_pan=True,
                              speed=0.0, scale_change=0.0, pan_speed=0.02, size_range=(0.2, 0.3)))
    truth = scene.ground_truth(0)
    inside = (truth.xyxy[:, :2] > 15).all(axis=1) & (truth.xyxy[:, 2:] < [145, 105]).all(axis=1)
    truth = truth[inside]
    assert len(truth) >= 1
    tracker = still_tracker(160, 120, do_align=do_align)
    run(tracker, 0, scene.frame(0), Detections(truth.xyxy, scores=np.full(len(truth), 0.9)))
    last = 5
    for index in range(1, last + 1):
        tracks = run(tracker, index, scene.frame(index), Detections.empty())
    np.testing.assert_array_equal(tracks.track_ids, np.arange(1, len(truth) + 1))
    shift = scene.camera(0) - scene.camera(last)
    assert np.abs(shift).max() >= 5  # the test means something
    expected = truth.xyxy + np.tile(shift, 2) if do_align else truth.xyxy
    np.testing.assert_allclose(tracks.xyxy, expected, atol=0.5)


def test_same_tracks_as_the_original_tracktor_with_the_same_stand_in_networks(monkeypatch):
    """The original's tracks on 60 frames of a panning synthetic scene, ReID on, in
    data/tracktor_reference_tracks.txt, made by ``PYTHONPATH=. python evaluation/reference/phil_bergmann_tracktor.py
    --reference /tmp/ref/tracking_wo_bnw fixture --out tests/association/data/tracktor_reference_tracks.txt``
    (the driver's docstring says which networks are stand-ins and which scores differ on purpose)."""
    root = Path(__file__).parents[2]
    spec = importlib.util.spec_from_file_location("tracktor_driver",
                                                  root / "evaluation/reference/phil_bergmann_tracktor.py")
    driver = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, driver)  # its dataclass looks its module up there
    spec.loader.exec_module(driver)
    original = np.loadtxt(Path(__file__).parent / "data/tracktor_reference_tracks.txt", delimiter=",", ndmin=2)
    case = driver.Case()
    result = driver.compare(driver.run_ours(case), original, case)
    assert result["same_ids_and_frames"], result
    assert len(np.unique(original[:, 1])) > 10 and result["rows_scored_by_detections"] > 0
    assert result["max_box_difference"] < 0.01  # ECC on uint8 grey (ours) vs float grey (the original)
    assert result["max_score_difference"] < 1e-3


@pytest.mark.parametrize("setting", [{"class_id": 91}, {"inactive_patience": -1}, {"warp_mode": "homography"},
                                     {"align_scale": 0.0}])
def test_bad_settings_are_config_errors(setting):
    with pytest.raises(ConfigError, match="tracktor"):
        Tracktor(detector_weights=None, device="cpu", **setting)
