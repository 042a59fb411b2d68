"""One-pass evaluation (OPE) offline, for OTB, LaSOT, UAV123 and TrackingNet-style data: success AUC, precision at
20 px, normalised precision at 0.2 and speed of result files, with success and precision plots.

Success and precision follow got10k 0.1.3's ``ExperimentOTB.report`` (``got10k/experiments/otb.py``), whose numbers
ours equal on the same files:
- results are ``TRACKER/SEQ.txt``, one ``x,y,w,h`` row a frame, times ``TRACKER/times/SEQ_time.txt``;
- the first frame's result is replaced by the ground truth (it is the initialisation), so it always succeeds;
- per sequence, the success curve is the fraction of frames with IoU strictly above 0, 0.05, ..., 1 (21 thresholds:
  a perfect tracker scores 20/21 = 0.952) and the precision curve the fraction with centre error at most
  0, 1, ..., 50 px; the dataset's curves are the means of the sequences' curves (each sequence weighs the same);
- success AUC is the mean of the success curve, precision its value at 20 px, success rate its value at 0.5;
- speed is, per sequence, the mean of 1 / t over positive per-frame times, then the mean over sequences with times.

Normalised precision is LaSOT's (HengLan/LaSOT_Evaluation_Toolkit ``utils/calc_seq_err_robust.m``, also
visionml/pytracking ``pytracking/analysis/extract_results.py``): both centres divided by the true box's width and
height, the distance between them at most 0, 0.01, ..., 0.5, read at 0.2; built and averaged like precision.

Frames as the toolkit treats them: a result row of NaN (no box) fails every threshold; a true box of NaN fails every
threshold too with ``nan_gt="fail"`` (``ExperimentOTB``), or the frame is left out with ``nan_gt="drop"``
(``ExperimentUAV123``, for UAV123's NaN rows where the target is absent); a zero-size true box gives IoU 0. LaSOT's
own toolkit further drops frames flagged absent and keeps them in the denominator; that rule is not applied here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from videoanalyst.errors import InputError
from videoanalyst.evaluators.plots import format_table, plot_curves
from videoanalyst.evaluators.success import (
    CENTRE_THRESHOLDS,
    NORM_CENTRE_THRESHOLDS,
    OPE_IOU_THRESHOLDS,
    box_iou,
    centre_error,
    mean_fps,
    precision_curve,
    success_curve,
    threshold_index,
)
from videoanalyst.formats.sot_results import (
    OPE_GROUNDTRUTH_FILES,
    read_ope_groundtruth,
    read_ope_results,
    read_ope_times,
    tracker_folders,
)

NanGt = Literal["fail", "drop"]
#: Where the headline numbers are read on their curves.
PRECISION_PIXELS = 20
NORM_PRECISION_AT = 0.2
SUCCESS_RATE_AT = 0.5


@dataclass(frozen=True)
class OpeScore:
    """One tracker on one sequence, or over the dataset (curves averaged over sequences).

    Args:
        success_auc: mean of `success_curve`, at `OPE_IOU_THRESHOLDS`.
        success_rate: `success_curve` at IoU 0.5.
        precision: `precision_curve` at 20 px, at `CENTRE_THRESHOLDS`.
        norm_precision: `norm_precision_curve` at 0.2, at `NORM_CENTRE_THRESHOLDS`.
        speed_fps: mean of 1 / per-frame seconds; None without time files.
        frames: frames evaluated (over the dataset: summed over sequences).
    """

    success_auc: float
    success_rate: float
    precision: float
    norm_precision: float
    speed_fps: float | None
    frames: int
    success_curve: np.ndarray
    precision_curve: np.ndarray
    norm_precision_curve: np.ndarray

    def to_dict(self) -> dict:
        """The fields, curves as lists."""
        return {key: value.tolist() if isinstance(value, np.ndarray) else value for key, value in vars(self).items()}


@dataclass(frozen=True)
class OpeTrackerScore:
    """One tracker: its dataset score and its per-sequence scores, in the dataset's order."""

    tracker: str
    overall: OpeScore
    sequences: dict[str, OpeScore]


@dataclass(frozen=True)
class OpeReport:
    """The OPE scores of several trackers, as a text table, a JSON-ready dict and success / precision plots."""

    scores: list[OpeTrackerScore]

    def table(self, per_sequence: bool = False) -> str:
        """Trackers one a row (AUC, precision, normalised precision, fps); with `per_sequence`, first a table of
        sequences one a row and the trackers side by side."""
        overall = format_table(
            ["tracker", "AUC", "Prec@20", "NPrec@0.2", "fps"], [[s.tracker, *_cells(s.overall)] for s in self.scores]
        )
        if not per_sequence:
            return overall
        header = ["sequence"] + [f"{s.tracker} {m}" for s in self.scores for m in ("AUC", "Prec", "NPrec", "fps")]
        rows = [
            [name] + [cell for s in self.scores for cell in _cells(s.sequences[name])]
            for name in self.scores[0].sequences
        ]
        return format_table(header, rows) + "\n\n" + overall

    def to_dict(self) -> dict:
        """{"protocol": "ope", "trackers": {name: {"overall": {...}, "sequences": {seq: {...}}}}}."""
        return {
            "protocol": "ope",
            "trackers": {
                s.tracker: {
                    "overall": s.overall.to_dict(),
                    "sequences": {name: score.to_dict() for name, score in s.sequences.items()},
                }
                for s in self.scores
            },
        }

    def write_plots(self, folder: Path) -> list[Path]:
        """Write ``success_plots.png`` and ``precision_plots.png`` (the toolkit's names) and
        ``norm_precision_plots.png`` into `folder`, legends giving AUC, precision at 20 px, at 0.2."""
        overall = {s.tracker: s.overall for s in self.scores}
        plots = [
            (
                "success_plots.png",
                OPE_IOU_THRESHOLDS,
                "success_curve",
                "success_auc",
                "Success plots of OPE",
                "Overlap threshold",
                "Success rate",
            ),
            (
                "precision_plots.png",
                CENTRE_THRESHOLDS,
                "precision_curve",
                "precision",
                "Precision plots of OPE",
                "Location error threshold",
                "Precision",
            ),
            (
                "norm_precision_plots.png",
                NORM_CENTRE_THRESHOLDS,
                "norm_precision_curve",
                "norm_precision",
                "Normalized precision plots of OPE",
                "Normalized location error threshold",
                "Precision",
            ),
        ]
        return [
            plot_curves(
                folder / name,
                thresholds,
                {t: getattr(s, curve) for t, s in overall.items()},
                {t: getattr(s, score) for t, s in overall.items()},
                title=title,
                xlabel=xlabel,
                ylabel=ylabel,
            )
            for name, thresholds, curve, score, title, xlabel, ylabel in plots
        ]


def evaluate_ope(
    gt_root: Path, results_root: Path, trackers: list[str] | None = None, nan_gt: NanGt = "fail"
) -> OpeReport:
    """Score the results under `results_root` (``TRACKER/SEQ.txt``) against the sequence folders under `gt_root`
    (`ope_sequences`), each with ``groundtruth_rect.txt`` or ``groundtruth.txt``.

    Args:
        trackers: tracker folder names to score, in this order; None: every folder under `results_root`.
        nan_gt: frames whose true box is NaN: "fail" counts them as failures (got10k ``ExperimentOTB``), "drop"
            leaves them out (got10k ``ExperimentUAV123``; use it for UAV123).

    Raises:
        InputError: naming the file (and line) for missing or malformed ground truth or results.
    """
    if nan_gt not in ("fail", "drop"):
        raise ValueError(f"nan_gt must be 'fail' or 'drop', got {nan_gt!r}")
    truths = {folder.name: read_ope_groundtruth(folder) for folder in ope_sequences(gt_root)}
    return OpeReport([_score_tracker(folder, truths, nan_gt) for folder in tracker_folders(results_root, trackers)])


def ope_sequences(gt_root: Path) -> list[Path]:
    """The sequence folders of a dataset: `gt_root` itself when it holds a ground-truth file; else those named in
    its ``list.txt`` (paths relative to it); else its sub-folders with a ground-truth file and, one level down, those
    of its other sub-folders (LaSOT's ``category/category-N``), by name.

    Raises:
        InputError: naming the folder when it is missing, holds no sequence, or its ``list.txt`` names a missing one.
    """
    if not gt_root.is_dir():
        raise InputError(f"{gt_root}: no such dataset or sequence folder")
    if _has_groundtruth(gt_root):
        return [gt_root]
    listing = gt_root / "list.txt"
    if listing.is_file():
        folders = [gt_root / line.strip() for line in listing.read_text().splitlines() if line.strip()]
        missing = [str(folder) for folder in folders if not _has_groundtruth(folder)]
        if missing:
            raise InputError(f"{listing}: names sequences without a ground-truth file: {', '.join(missing[:5])}")
        return folders
    folders = []
    for folder in sorted(f for f in gt_root.iterdir() if f.is_dir()):
        folders += (
            [folder]
            if _has_groundtruth(folder)
            else sorted(f for f in folder.iterdir() if f.is_dir() and _has_groundtruth(f))
        )
    if not folders:
        raise InputError(f"{gt_root}: no sequence folders with {' or '.join(OPE_GROUNDTRUTH_FILES)}")
    return sorted(folders, key=lambda f: f.name)


def _has_groundtruth(folder: Path) -> bool:
    return any((folder / name).is_file() for name in OPE_GROUNDTRUTH_FILES)


def _score_tracker(tracker_folder: Path, truths: dict[str, np.ndarray], nan_gt: NanGt) -> OpeTrackerScore:
    sequences = {name: _score_sequence(tracker_folder, name, truth, nan_gt) for name, truth in truths.items()}
    scores = list(sequences.values())
    speeds = [s.speed_fps for s in scores if s.speed_fps is not None]
    overall = _score(
        *(
            np.mean([getattr(s, curve) for s in scores], axis=0)
            for curve in ("success_curve", "precision_curve", "norm_precision_curve")
        ),
        speed_fps=float(np.mean(speeds)) if speeds else None,
        frames=sum(s.frames for s in scores),
    )
    return OpeTrackerScore(tracker_folder.name, overall, sequences)


def _score_sequence(tracker_folder: Path, name: str, truth: np.ndarray, nan_gt: NanGt) -> OpeScore:
    boxes = read_ope_results(tracker_folder, name, len(truth))
    boxes[0] = truth[0]
    if nan_gt == "drop":
        keep = ~np.isnan(truth).any(axis=1)
        boxes, truth = boxes[keep], truth[keep]
    return _score(
        success_curve(box_iou(boxes, truth), OPE_IOU_THRESHOLDS),
        precision_curve(centre_error(boxes, truth), CENTRE_THRESHOLDS),
        precision_curve(centre_error(boxes, truth, normalise=True), NORM_CENTRE_THRESHOLDS),
        speed_fps=mean_fps(read_ope_times(tracker_folder, name)),
        frames=len(truth),
    )


def _score(
    success: np.ndarray, precision: np.ndarray, norm_precision: np.ndarray, speed_fps: float | None, frames: int
) -> OpeScore:
    return OpeScore(
        success_auc=float(np.mean(success)),
        success_rate=float(success[threshold_index(OPE_IOU_THRESHOLDS, SUCCESS_RATE_AT)]),
        precision=float(precision[threshold_index(CENTRE_THRESHOLDS, PRECISION_PIXELS)]),
        norm_precision=float(norm_precision[threshold_index(NORM_CENTRE_THRESHOLDS, NORM_PRECISION_AT)]),
        speed_fps=speed_fps,
        frames=frames,
        success_curve=success,
        precision_curve=precision,
        norm_precision_curve=norm_precision,
    )


def _cells(score: OpeScore) -> list[str]:
    speed = "-" if score.speed_fps is None else f"{score.speed_fps:.1f}"
    return [f"{score.success_auc:.3f}", f"{score.precision:.3f}", f"{score.norm_precision:.3f}", speed]
