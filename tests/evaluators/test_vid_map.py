"""ImageNet VID mAP on hand-computed cases. Expected values follow the ImageNet VID devkit's rules (as ported in
msracver/Flow-Guided-Feature-Aggregation lib/dataset/imagenet_vid_eval.py) and mmdet's tpfp_imagenet / eval_map
(mmdet/core/evaluation/mean_ap.py): all-point interpolated AP, per-box threshold min(0.5, wh / ((w+10)(h+10))),
ignored boxes absorbing detections, area ranges, mean over the classes with ground truth."""

import numpy as np
import pytest

from videoanalyst.core.detections import Detections
from videoanalyst.errors import InputError
from videoanalyst.evaluators.vid_map import average_precision, match_frame, vid_map


def boxes(xyxy, class_id=1, scores=None, **extra):
    xyxy = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4)
    return Detections(
        xyxy=xyxy,
        scores=scores,
        class_ids=np.full(len(xyxy), class_id),
        extra={k: np.asarray(v) for k, v in extra.items()},
    )


def test_average_precision_is_the_area_under_the_interpolated_curve():
    # Ranked: TP, FP, TP of 3 gt: (recall, precision) = (1/3, 1), (1/3, 1/2), (2/3, 2/3); the envelope lifts the
    # middle point to 2/3, so AP = 1/3 * 1 + 1/3 * 2/3.
    assert average_precision(np.array([1, 1, 2]) / 3, np.array([1, 1 / 2, 2 / 3])) == pytest.approx(5 / 9)
    assert average_precision(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == pytest.approx(1.0)


def test_one_class_over_two_frames():
    ground_truth = {"v": {0: boxes([[0, 0, 100, 100], [200, 0, 300, 100]]), 1: boxes([[0, 0, 100, 100]])}}
    predictions = {
        "v": {
            0: boxes([[0, 0, 100, 100], [500, 500, 600, 600]], scores=[0.9, 0.8]),
            1: boxes([[2, 0, 102, 100]], scores=[0.7]),
        }
    }
    result = vid_map(ground_truth, predictions)
    assert result.mean_ap == pytest.approx(5 / 9)  # TP 0.9, FP 0.8, TP 0.7; one gt never found
    assert result.classes[1].num_gts == 3 and result.classes[1].num_dets == 3
    assert result.classes[1].recall == pytest.approx(2 / 3)


def test_small_objects_need_less_overlap():
    # A 10 x 10 box needs IoU >= 100 / (20 * 20) = 0.25; a 100 x 100 box needs 0.5. Both detections have IoU 1/3.
    small = match_frame(np.array([[0, 0, 10, 30]]), np.array([1.0]), np.array([[0, 0, 10, 10]]), np.zeros(1, bool))
    large = match_frame(np.array([[0, 0, 100, 300]]), np.array([1.0]), np.array([[0, 0, 100, 100]]), np.zeros(1, bool))
    assert small[0].tolist() == [True] and large[1].tolist() == [True]


def test_legacy_coordinates_count_inclusive_pixels():
    # A one-pixel box (x1 = x2) is a 1 x 1 box in the devkit's inclusive pixels, an empty one in continuous corners.
    box = np.array([[5.0, 5.0, 5.0, 5.0]])
    assert match_frame(box, np.array([1.0]), box, np.zeros(1, bool), legacy_coordinates=True)[0].tolist() == [True]
    assert match_frame(box, np.array([1.0]), box, np.zeros(1, bool))[1].tolist() == [True]


def test_a_detection_whose_best_box_is_taken_may_match_another():
    # d1 (0.9) ties on both boxes (IoU 0.905) and takes the first; d2 (0.8) overlaps box 0 fully but it is taken,
    # so it takes box 1 (IoU 0.818): ImageNet rule, where VOC would count d2 a false positive.
    gt = np.array([[0, 0, 100, 100], [10, 0, 110, 100]])
    tp, fp = match_frame(np.array([[5, 0, 105, 100], [0, 0, 100, 100]]), np.array([0.9, 0.8]), gt, np.zeros(2, bool))
    assert tp.tolist() == [True, True] and fp.tolist() == [False, False]


def test_ignored_boxes_absorb_detections_without_counting():
    ground_truth = {"v": {3: boxes([[0, 0, 50, 50], [100, 0, 150, 50]], ignore=[True, False])}}
    predictions = {"v": {3: boxes([[0, 0, 50, 50], [100, 0, 150, 50]], scores=[0.9, 0.5])}}
    result = vid_map(ground_truth, predictions)
    assert result.classes[1].num_gts == 1
    assert result.mean_ap == pytest.approx(1.0)  # the 0.9 detection on the ignored box is no false positive
    difficult = {"v": {3: boxes([[0, 0, 50, 50], [100, 0, 150, 50]], difficult=[1, 0])}}
    assert vid_map(difficult, predictions).mean_ap == pytest.approx(1.0)


def test_area_range_ignores_boxes_and_detections_outside_it():
    ground_truth = {"v": {0: boxes([[0, 0, 10, 10], [100, 0, 200, 100]])}}
    detected = [[0, 0, 10, 10], [100, 0, 200, 100], [300, 300, 305, 305], [400, 400, 480, 480]]
    predictions = {"v": {0: boxes(detected, scores=[0.9, 0.8, 0.7, 0.6])}}
    result = vid_map(ground_truth, predictions, area_range=(50**2, 1e10))
    # Counted: the large box (TP at 0.8) and the unmatched 80 x 80 detection (FP at 0.6); the small box and the
    # small unmatched detection are outside the range.
    assert result.classes[1].num_gts == 1
    assert result.mean_ap == pytest.approx(1.0)
    everything = vid_map(ground_truth, predictions)
    assert everything.mean_ap == pytest.approx(1.0)  # TP, TP, then FPs after full recall


def test_mean_over_classes_with_ground_truth():
    ground_truth = {
        "a": {0: Detections.concatenate([boxes([[0, 0, 50, 50]], 1), boxes([[100, 0, 150, 50]], 2)])},
        "b": {},
    }
    predictions = {
        "a": {0: boxes([[0, 0, 50, 50]], 1, scores=[0.9])},
        "b": {7: boxes([[0, 0, 50, 50]], 3, scores=[0.9])},
    }
    result = vid_map(ground_truth, predictions)
    assert result.classes[1].ap == pytest.approx(1.0)
    assert result.classes[2].ap == 0.0 and result.classes[2].num_dets == 0  # missed entirely: counts as 0
    assert result.classes[3].num_gts == 0  # detections of a class without ground truth: reported, not averaged
    assert result.mean_ap == pytest.approx(0.5)


def test_bad_input_is_named():
    with pytest.raises(InputError, match="video 'x' has no predictions"):
        vid_map({"x": {}}, {})
    with pytest.raises(InputError, match="video 'y' has no ground truth"):
        vid_map({}, {"y": {}})
    with pytest.raises(InputError, match="video 'x' frame 2: non-finite"):
        vid_map({"x": {}}, {"x": {2: boxes([[0, 0, 1, 1]], scores=[np.nan])}})
