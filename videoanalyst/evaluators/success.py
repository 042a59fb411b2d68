"""Overlap and centre error of x, y, w, h boxes, the success / precision curves built from them, and speed from
per-frame times: the one implementation the GOT-10k and OPE evaluators share.

Formulas and operation order follow got10k 0.1.3 (``got10k/utils/metrics.py``: ``rect_iou``, ``center_error``;
``got10k/experiments/otb.py``: ``_calc_curves``), so our numbers equal the toolkit's to the last bit.
"""

from __future__ import annotations

import numpy as np

#: GOT-10k success-curve thresholds 0, 0.01, ..., 1 (got10k ``ExperimentGOT10k._evaluate``, 101 bins).
GOT10K_IOU_THRESHOLDS = np.linspace(0, 1, 101)
#: OPE success-plot thresholds 0:0.05:1, 21 of them including 1.0 (OTB toolkit; got10k ``ExperimentOTB``,
#: ``nbins_iou = 21``); a perfect tracker scores 20/21 as no IoU exceeds 1.
OPE_IOU_THRESHOLDS = np.linspace(0, 1, 21)
#: OPE precision-plot thresholds 0, 1, ..., 50 pixels of centre error (got10k ``ExperimentOTB``, ``nbins_ce = 51``).
CENTRE_THRESHOLDS = np.arange(51)
#: Normalised-precision thresholds 0, 0.01, ..., 0.5 (LaSOT toolkit, HengLan/LaSOT_Evaluation_Toolkit
#: ``utils/eval_tracker.m``: ``(0:50) / 100``).
NORM_CENTRE_THRESHOLDS = np.arange(51) / 100


def clip_to_image(boxes: np.ndarray, width: float, height: float) -> np.ndarray:
    """(N, 4) x, y, w, h bounded as got10k's ``rect_iou(..., bound)`` does: x into [0, width], then w into
    [0, width - x] (likewise y, h). A box reaching past the left edge is shifted, not cut: it keeps its width."""
    boxes = np.array(boxes, dtype=np.float64)
    boxes[:, 0] = np.clip(boxes[:, 0], 0, width)
    boxes[:, 1] = np.clip(boxes[:, 1], 0, height)
    boxes[:, 2] = np.clip(boxes[:, 2], 0, width - boxes[:, 0])
    boxes[:, 3] = np.clip(boxes[:, 3], 0, height - boxes[:, 1])
    return boxes


def box_iou(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """(N,) intersection over union of paired (N, 4) x, y, w, h rows, as intersection / (union + eps) clipped to
    [0, 1] (got10k ``rect_iou``): 0 for a zero-size box, NaN where a row holds NaN."""
    x1 = np.maximum(boxes1[:, 0], boxes2[:, 0])
    y1 = np.maximum(boxes1[:, 1], boxes2[:, 1])
    x2 = np.minimum(boxes1[:, 0] + boxes1[:, 2], boxes2[:, 0] + boxes2[:, 2])
    y2 = np.minimum(boxes1[:, 1] + boxes1[:, 3], boxes2[:, 1] + boxes2[:, 3])
    intersection = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = boxes1[:, 2] * boxes1[:, 3] + boxes2[:, 2] * boxes2[:, 3] - intersection
    return np.clip(intersection / (union + np.finfo(float).eps), 0.0, 1.0)


def centre_error(boxes: np.ndarray, truth: np.ndarray, normalise: bool = False) -> np.ndarray:
    """(N,) distance in pixels between the centres ``x + (w - 1) / 2``, ``y + (h - 1) / 2`` of paired (N, 4)
    x, y, w, h rows (got10k ``center_error``, OTB's convention).

    Args:
        normalise: divide both centres' x by the true box's w and y by its h before taking the distance (LaSOT's
            normalised precision: HengLan/LaSOT_Evaluation_Toolkit ``utils/calc_seq_err_robust.m``, as in
            visionml/pytracking ``pytracking/analysis/extract_results.py`` ``calc_err_center``); a zero-size true
            box gives inf or NaN, which no threshold accepts.
    """
    centres = boxes[:, :2] + (boxes[:, 2:] - 1) / 2
    true_centres = truth[:, :2] + (truth[:, 2:] - 1) / 2
    if normalise:
        with np.errstate(divide="ignore", invalid="ignore"):
            centres = centres / truth[:, 2:]
            true_centres = true_centres / truth[:, 2:]
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.sum(np.power(centres - true_centres, 2), axis=-1))


def success_curve(ious: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fraction of `ious` strictly above each threshold (NaN counts as a failure); NaN everywhere when empty."""
    return _mean_rows(np.greater(np.asarray(ious)[:, None], thresholds[None, :]), len(thresholds))


def precision_curve(errors: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fraction of centre `errors` at or below each threshold (NaN counts as a failure); NaN everywhere when empty."""
    return _mean_rows(np.less_equal(np.asarray(errors)[:, None], thresholds[None, :]), len(thresholds))


def threshold_index(thresholds: np.ndarray, value: float) -> int:
    """Index of `value` in a threshold grid (e.g. 0.75 in `GOT10K_IOU_THRESHOLDS`: 75), to read a curve there."""
    index = int(np.argmin(np.abs(thresholds - value)))
    if not np.isclose(thresholds[index], value):
        raise ValueError(f"{value} is not on the threshold grid {thresholds[0]}..{thresholds[-1]}")
    return index


def mean_fps(seconds: np.ndarray | None) -> float | None:
    """Speed as both got10k experiments measure it: the mean of 1 / t over per-frame seconds; None without any."""
    return float(np.mean(1.0 / seconds)) if seconds is not None and len(seconds) else None


def _mean_rows(hits: np.ndarray, width: int) -> np.ndarray:
    return np.mean(hits, axis=0) if len(hits) else np.full(width, np.nan)
