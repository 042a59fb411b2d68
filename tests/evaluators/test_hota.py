"""HOTA on hand-computed cases. Expected values come from the definitions in Luiten et al., IJCV 2020 (DetA =
TP / (TP + FN + FP); AssA = mean over TPs of TPA / (TPA + FNA + FPA); HOTA = sqrt(DetA AssA) averaged over
alpha = 0.05 .. 0.95) and TrackEval's conventions (trackeval/metrics/hota.py: LocA = 1 at an alpha without TPs,
matching on global alignment score x similarity)."""

import motmetrics as mm
import numpy as np
import pytest

from videoanalyst.evaluators.hota import ALPHAS, combine_hota, hota_counts
from videoanalyst.evaluators.mot import box_iou


def single_track(frames: int, tracker_ids: list[int | None], iou: float = 1.0):
    """One gt object (id 1) on `frames` frames; tracker_ids[t] is the predicted id on frame t (None: missed)."""
    gt_ids = [np.array([1])] * frames
    ids = [np.array([] if i is None else [i]) for i in tracker_ids]
    sims = [np.full((1, len(i)), iou) for i in ids]
    return gt_ids, ids, sims


# Three trackers on one 10-frame gt trajectory, in the spirit of Fig. 1 of the HOTA paper (values by hand):
# A finds the first half under one id; B finds every frame under two ids (5 + 5); C every frame under five ids.
@pytest.mark.parametrize(
    "tracker_ids, det_a, ass_a",
    [
        ([7] * 5 + [None] * 5, 5 / 10, 5 / (10 + 5 - 5)),  # A: TP 5, FN 5; each TP: TPA 5, FNA 5, FPA 0
        ([7] * 5 + [8] * 5, 1.0, 5 / 10),  # B: TP 10; each TP: TPA 5, FNA 5, FPA 0
        ([1, 1, 2, 2, 3, 3, 4, 4, 5, 5], 1.0, 2 / 10),  # C: each TP: TPA 2, FNA 8
    ],
    ids=["A", "B", "C"],
)
def test_paper_style_trackers_trade_detection_for_association(tracker_ids, det_a, ass_a):
    counts = hota_counts(*single_track(10, tracker_ids))
    summary = counts.summary()
    assert summary["DetA"] == pytest.approx(det_a)
    assert summary["AssA"] == pytest.approx(ass_a)
    assert summary["HOTA"] == pytest.approx(np.sqrt(det_a * ass_a))
    assert summary["LocA"] == pytest.approx(1.0)
    np.testing.assert_allclose(counts.hota, np.sqrt(det_a * ass_a))  # IoU 1: the same at every alpha


def test_merged_identities_score_association_precision():
    # gt 1 on frames 0-3, gt 2 on frames 4-7, one predicted id covering both: AssRe 1, AssPr 4 / 8, AssA 4 / 8.
    gt_ids = [np.array([1])] * 4 + [np.array([2])] * 4
    counts = hota_counts(gt_ids, [np.array([9])] * 8, [np.ones((1, 1))] * 8)
    summary = counts.summary()
    assert summary["DetA"] == pytest.approx(1.0)
    assert summary["AssRe"] == pytest.approx(1.0)
    assert summary["AssPr"] == pytest.approx(0.5)
    assert summary["AssA"] == pytest.approx(0.5)
    assert summary["HOTA"] == pytest.approx(np.sqrt(0.5))


def test_constant_iou_of_one_half_counts_at_half_the_alphas_and_loca_is_one_without_matches():
    counts = hota_counts(*single_track(4, [3] * 4, iou=0.5))
    matched = ALPHAS <= 0.5 + 1e-12  # 0.05 .. 0.50: 10 of the 19 thresholds
    assert matched.sum() == 10
    np.testing.assert_allclose(counts.tp, np.where(matched, 4, 0))
    np.testing.assert_allclose(counts.hota, np.where(matched, 1.0, 0.0))
    np.testing.assert_allclose(counts.loc_a, np.where(matched, 0.5, 1.0))  # TrackEval: 1e-10 / 1e-10 when TP = 0
    summary = counts.summary()
    assert summary["HOTA"] == pytest.approx(10 / 19)
    assert summary["LocA"] == pytest.approx((10 * 0.5 + 9 * 1.0) / 19)
    assert summary["HOTA(0)"] == pytest.approx(1.0)  # at alpha 0.05
    assert summary["LocA(0)"] == pytest.approx(0.5)


def test_matching_prefers_the_consistent_identity_over_the_higher_iou():
    # gt 1 is covered by id 10 (IoU 0.9) on 5 frames; on the last one a one-frame id 11 overlaps it more (0.95).
    # Soft co-occurrence: frames 0-3 give 1 each, frame 4 gives 0.9 / 1.85 to (1, 10) and 0.95 / 1.85 to (1, 11):
    # alignment (1, 10) = 4.486 / (5 + 5 - 4.486) = 0.81, (1, 11) = 0.514 / (5 + 1 - 0.514) = 0.094, so the
    # Hungarian step keeps id 10 (0.81 * 0.9 > 0.094 * 0.95), where IoU alone would take id 11.
    gt_ids = [np.array([1])] * 5
    tracker_ids = [np.array([10])] * 4 + [np.array([10, 11])]
    sims = [np.array([[0.9]])] * 4 + [np.array([[0.9, 0.95]])]
    counts = hota_counts(gt_ids, tracker_ids, sims)
    below = ALPHAS <= 0.9 + 1e-12  # 18 thresholds where IoU 0.9 counts
    np.testing.assert_allclose(counts.tp, np.where(below, 5, 0))
    np.testing.assert_allclose(counts.fp, np.where(below, 1, 6))
    np.testing.assert_allclose(counts.ass_a, np.where(below, 1.0, 0.0))  # id 10 alone matches gt 1: TPA 5 / 5
    assert counts.summary()["HOTA"] == pytest.approx(18 / 19 * np.sqrt(5 / 6))


def test_perfect_tracking_scores_one_whatever_the_ids():
    rng = np.random.default_rng(0)
    gt_ids, tracker_ids, sims = [], [], []
    for _ in range(30):
        present = np.sort(rng.choice(8, rng.integers(0, 9), replace=False))
        gt_ids.append(present)
        tracker_ids.append(present * 13 + 1000)  # any relabelling of the gt ids
        sims.append(np.eye(len(present)))
    summary = hota_counts(gt_ids, tracker_ids, sims).summary()
    for name in ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA", "HOTA(0)"):
        assert summary[name] == pytest.approx(1.0), name


def test_empty_sides():
    no_predictions = hota_counts([np.array([1, 2])] * 3, [np.array([], int)] * 3, [np.zeros((2, 0))] * 3)
    np.testing.assert_allclose(no_predictions.fn, 6)
    assert no_predictions.summary()["HOTA"] == 0.0
    assert no_predictions.summary()["LocA"] == 1.0  # TrackEval's value for a tracker without detections
    no_gt = hota_counts([np.array([], int)] * 2, [np.array([4])] * 2, [np.zeros((0, 1))] * 2)
    np.testing.assert_allclose(no_gt.fp, 2)
    assert no_gt.summary()["DetPr"] == 0.0


def test_combining_sequences_sums_counts_and_weights_association_by_true_positives():
    a = hota_counts(*single_track(10, [7] * 5 + [None] * 5))  # TP 5, FN 5, AssA 0.5
    perfect = hota_counts(*single_track(15, [2] * 15))  # TP 15, AssA 1
    combined = combine_hota([a, perfect])
    np.testing.assert_allclose(combined.tp, 20)
    np.testing.assert_allclose(combined.fn, 5)
    np.testing.assert_allclose(combined.ass_a, (5 * 0.5 + 15 * 1.0) / 20)
    assert combined.summary()["HOTA"] == pytest.approx(np.sqrt(20 / 25 * 17.5 / 20))


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="id 4 appears twice in frame index 1"):
        hota_counts([np.array([1]), np.array([4, 4])], [np.array([1])] * 2, [np.ones((1, 1)), np.ones((2, 1))])
    with pytest.raises(ValueError, match="shape"):
        hota_counts([np.array([1, 2])], [np.array([1])], [np.ones((1, 2))])
    with pytest.raises(ValueError, match="one entry a frame"):
        hota_counts([np.array([1])], [], [])


def test_detection_scores_at_alpha_one_half_equal_motmetrics_clear_when_matches_are_unambiguous():
    # With every gt box overlapping at most one prediction, HOTA's matching at alpha = 0.5 and CLEAR's IoU >= 0.5
    # matching pick the same pairs: DetRe(0.5) = recall, DetPr(0.5) = precision, LocA(0.5) = MOTP (mean IoU).
    # They differ in general: HOTA matches on alignment x IoU, may pair boxes below the threshold, and never
    # prefers last frame's partner as CLEAR does.
    rng = np.random.default_rng(1)
    accumulator = mm.MOTAccumulator(auto_id=True)
    gt_ids, tracker_ids, sims = [], [], []
    for _ in range(40):
        ids = np.flatnonzero(rng.random(6) < 0.8)
        gt_boxes = np.stack([ids * 100.0, np.zeros(len(ids)), ids * 100.0 + 40, np.full(len(ids), 60.0)], axis=1)
        shifts = rng.uniform(-15, 15, (len(ids), 4))
        kept = rng.random(len(ids)) < 0.85
        predicted = gt_boxes[kept] + shifts[kept]  # stays within its own 100-px column: unambiguous
        predicted_ids = np.where(rng.random(kept.sum()) < 0.1, ids[kept] + 50, ids[kept])
        iou = box_iou(gt_boxes, predicted)
        gt_ids.append(ids)
        tracker_ids.append(predicted_ids)
        sims.append(iou)
        accumulator.update(ids, predicted_ids, np.where(iou >= 0.5, 1 - iou, np.nan))
    clear = mm.metrics.create().compute(accumulator, metrics=["recall", "precision", "motp", "num_detections"])
    counts = hota_counts(gt_ids, tracker_ids, sims)
    half = int(np.flatnonzero(np.isclose(ALPHAS, 0.5))[0])
    assert counts.tp[half] == clear["num_detections"].iloc[0]  # matches + switches
    assert counts.det_re[half] == pytest.approx(clear["recall"].iloc[0])
    assert counts.det_pr[half] == pytest.approx(clear["precision"].iloc[0])
    assert counts.loc_a[half] == pytest.approx(1 - clear["motp"].iloc[0])
