"""ImageNet VID detection mAP@0.5: per-class VOC-style AP (area under the all-point interpolated precision /
recall curve), the mean over the classes present in the ground truth.

Conventions of the ImageNet VID devkit, as ported in msracver/Flow-Guided-Feature-Aggregation
``lib/dataset/imagenet_vid_eval.py`` and as mmdet's ``tpfp_imagenet`` / ``eval_map``
(open-mmlab/mmdetection ``mmdet/core/evaluation/mean_ap.py``) apply them: a ground-truth box of size w x h matches
at IoU >= min(0.5, w h / ((w + 10) (h + 10))), so small objects need less overlap; each detection, highest score
first, takes the unmatched ground-truth box it overlaps most among those above their threshold (unlike VOC, a
detection whose best box is taken may match another); ignored ground truth (mmdet's ``bboxes_ignore``) absorbs
detections without counting; an area range (mmdet's ``scale_ranges``) ignores ground truth outside it and does
not count unmatched detections outside it as false positives. A match needs some overlap (the devkit's
iw, ih > 0). Not followed: mmdet's ``tpfp_imagenet`` shifts the ground truth by -1 px before the IoU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from videoanalyst.core.detections import Detections
from videoanalyst.errors import InputError

#: ``extra`` fields of ground-truth `Detections` that mark a box as ignored (mmdet loads VOC "difficult" boxes
#: into ``bboxes_ignore``; ImageNet VID itself marks none).
IGNORE_FIELDS = ("ignore", "difficult")


@dataclass(frozen=True)
class ClassAP:
    """AP of one class, with the counts behind it.

    Args:
        ap: area under the interpolated precision / recall curve.
        num_gts: ground-truth boxes counted (not ignored, within the area range).
        num_dets: detections of the class (all of them, as mmdet counts them).
        recall: recall after the last detection.
    """

    ap: float
    num_gts: int
    num_dets: int
    recall: float


@dataclass(frozen=True)
class VidMapResult:
    """`mean_ap` over the classes with ground truth; `classes`: every class seen in ground truth or detections."""

    mean_ap: float
    classes: dict[int, ClassAP]


def vid_map(
    ground_truth: Mapping[str, Mapping[int, Detections]],
    predictions: Mapping[str, Mapping[int, Detections]],
    *,
    iou_threshold: float = 0.5,
    pixel_tolerance: float = 10.0,
    area_range: tuple[float, float] | None = None,
    legacy_coordinates: bool = False,
) -> VidMapResult:
    """ImageNet VID mAP of `predictions` against `ground_truth`, both {video: {frame: Detections}}.

    Ground truth needs class_ids, and may mark boxes ignored (`IGNORE_FIELDS`); predictions need class_ids and
    scores. A frame absent from a video's ground truth has no objects. Detections of equal score keep the order of
    videos and frames in `ground_truth` (a stable sort; the references' unstable sort leaves ties arbitrary).

    Args:
        iou_threshold: the IoU a ground-truth box of at least ~100 x 100 px needs (ImageNet VID: 0.5).
        pixel_tolerance: the 10 of the small-object threshold min(iou_threshold, wh / ((w + 10)(h + 10))).
        area_range: (min, max) ground-truth box area in px^2 to evaluate, [min, max); None: all.
        legacy_coordinates: boxes are inclusive integer pixel corners (the devkit's and mmdet v1's convention):
            widths are x2 - x1 + 1. False: continuous corners, widths x2 - x1 (mmdet v2's default).

    Raises:
        InputError: naming the video (and frame) for a video missing on either side, or a non-finite box or score.
    """
    extra = 1.0 if legacy_coordinates else 0.0
    missing = sorted(set(ground_truth) ^ set(predictions), key=str)
    if missing:
        side = "predictions" if missing[0] in ground_truth else "ground truth"
        raise InputError(f"vid_map: video {missing[0]!r} has no {side} (give {{}} for a video with none)")
    found: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}  # class -> [(scores, tp, fp)] a frame
    num_gts: dict[int, int] = {}
    for video, gt_frames in ground_truth.items():
        for frame in sorted(set(gt_frames) | set(predictions[video])):
            gt = gt_frames.get(frame, Detections.empty())
            detected = predictions[video].get(frame, Detections.empty())
            if not (np.isfinite(detected.xyxy).all() and np.isfinite(detected.scores).all()):
                raise InputError(f"vid_map: video {video!r} frame {frame}: non-finite box or score in predictions")
            skipped = np.zeros(len(gt), dtype=bool)  # ignored, or outside the area range
            for name in IGNORE_FIELDS:
                skipped |= np.asarray(gt.extra.get(name, skipped), dtype=bool)
            if area_range is not None:
                skipped |= ~_within(_areas(gt.xyxy, extra), area_range)
            for label in np.union1d(gt.class_ids, detected.class_ids):
                g, d = gt.class_ids == label, detected.class_ids == label
                tp, fp = match_frame(
                    detected.xyxy[d],
                    detected.scores[d],
                    gt.xyxy[g],
                    skipped[g],
                    iou_threshold=iou_threshold,
                    pixel_tolerance=pixel_tolerance,
                    area_range=area_range,
                    legacy_coordinates=legacy_coordinates,
                )
                found.setdefault(int(label), []).append((detected.scores[d], tp, fp))
                num_gts[int(label)] = num_gts.get(int(label), 0) + int((~skipped[g]).sum())
    classes = {label: _class_ap(found[label], num_gts[label]) for label in sorted(found)}
    present = [result.ap for result in classes.values() if result.num_gts > 0]
    return VidMapResult(float(np.mean(present)) if present else 0.0, classes)


def match_frame(
    det_xyxy: np.ndarray,
    det_scores: np.ndarray,
    gt_xyxy: np.ndarray,
    gt_ignored: np.ndarray,
    *,
    iou_threshold: float = 0.5,
    pixel_tolerance: float = 10.0,
    area_range: tuple[float, float] | None = None,
    legacy_coordinates: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives of one frame's detections of one class, by the ImageNet rule (module docstring).

    Args:
        det_xyxy, det_scores: (D, 4) boxes and (D,) scores of the detections.
        gt_xyxy, gt_ignored: (G, 4) ground-truth boxes and (G,) bool: ignored, or outside `area_range`.
        The rest: as `vid_map`.

    Returns:
        (D,) bool tp and fp, in the detections' order; a detection matched to an ignored box, or unmatched and
        outside `area_range`, is neither.
    """
    extra = 1.0 if legacy_coordinates else 0.0
    gt_sizes = np.asarray(gt_xyxy, np.float64).reshape(-1, 4)
    widths, heights = gt_sizes[:, 2] - gt_sizes[:, 0] + extra, gt_sizes[:, 3] - gt_sizes[:, 1] + extra
    thresholds = np.minimum(
        widths * heights / ((widths + pixel_tolerance) * (heights + pixel_tolerance)), iou_threshold
    )
    ious = _iou(det_xyxy, gt_xyxy, extra)
    tp = np.zeros(len(det_scores), dtype=bool)
    fp = np.zeros(len(det_scores), dtype=bool)
    counts_as_fp = (
        np.ones(len(det_scores), bool) if area_range is None else _within(_areas(det_xyxy, extra), area_range)
    )
    covered = np.zeros(len(gt_sizes), dtype=bool)
    for i in np.argsort(-np.asarray(det_scores, np.float64), kind="stable"):
        candidates = np.flatnonzero(~covered & (ious[i] >= thresholds) & (ious[i] > 0))  # devkit: iw, ih > 0
        if len(candidates):
            best = candidates[np.argmax(ious[i, candidates])]
            covered[best] = True
            tp[i] = not gt_ignored[best]
        else:
            fp[i] = counts_as_fp[i]
    return tp, fp


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision / recall curve with precision made monotone from the right (all-point
    interpolation, VOC2010+ and the VID devkit's ``vid_ap``); recall ascending, sentinels added here."""
    recall = np.concatenate([[0.0], recall, [1.0]])
    precision = np.maximum.accumulate(np.concatenate([[0.0], precision, [0.0]])[::-1])[::-1]
    steps = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[steps + 1] - recall[steps]) * precision[steps + 1]))


def _class_ap(frames: list[tuple[np.ndarray, np.ndarray, np.ndarray]], num_gts: int) -> ClassAP:
    """AP of one class from its per-frame (scores, tp, fp), detections ranked by score over all frames."""
    scores, tp, fp = (np.concatenate(column) for column in zip(*frames))
    order = np.argsort(-scores.astype(np.float64), kind="stable")
    tp, fp = np.cumsum(tp[order]), np.cumsum(fp[order])
    if num_gts == 0 or len(order) == 0:
        return ClassAP(0.0, num_gts, len(order), 0.0)
    recall = tp / num_gts
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return ClassAP(average_precision(recall, precision), num_gts, len(order), float(recall[-1]))


def _iou(a: np.ndarray, b: np.ndarray, extra: float) -> np.ndarray:
    """(N, M) IoU of x1, y1, x2, y2 boxes, widths x2 - x1 + `extra`; 0 without overlap."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    sizes = np.clip(
        np.minimum(a[:, None, 2:], b[None, :, 2:]) - np.maximum(a[:, None, :2], b[None, :, :2]) + extra, 0, None
    )
    intersection = sizes[..., 0] * sizes[..., 1]
    union = _areas(a, extra)[:, None] + _areas(b, extra)[None, :] - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0)


def _areas(xyxy: np.ndarray, extra: float) -> np.ndarray:
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    return (xyxy[:, 2] - xyxy[:, 0] + extra) * (xyxy[:, 3] - xyxy[:, 1] + extra)


def _within(areas: np.ndarray, area_range: tuple[float, float]) -> np.ndarray:
    return (areas >= area_range[0]) & (areas < area_range[1])
