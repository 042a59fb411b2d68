"""GOT-10k evaluation offline: AO, SR.50, SR.75 and speed of result files, equal to what got10k 0.1.3's
``ExperimentGOT10k.report`` gives on the validation split (``got10k/experiments/got10k.py``).

The protocol, as that toolkit applies it:
- results are ``TRACKER/SEQ/SEQ_001.txt`` (``_002``... for repeated runs, all pooled) and ``SEQ_time.txt``;
- frame 0 (the initialisation) is skipped, and so is every frame whose ``cover.label`` is 0 (target invisible);
- result and true boxes are bounded by the image (`clip_to_image`, the image size from ``meta_info.ini``);
- AO is the mean IoU pooled over all counted frames of all runs of all sequences, not a mean of sequence means;
  SR.50 and SR.75 are the success curve (fraction of IoUs strictly above 0, 0.01, ..., 1) at 0.5 and 0.75;
- speed is the mean of 1 / t over every positive per-frame time (all frames, the first included, all runs), pooled
  likewise; a sequence without ``SEQ_time.txt`` (which crashes the toolkit) is left out of it.

A result row of NaN (no box) on a counted frame is refused: the toolkit's AO would be NaN. Elsewhere it is ignored.

The test split's ground truth holds only the first frame's box: test-split numbers come only from the official
server (http://got-10k.aitestunion.com/), and `evaluate_got10k` says so when given that split.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from videoanalyst.errors import InputError
from videoanalyst.evaluators.plots import format_table, plot_curves
from videoanalyst.evaluators.success import (
    GOT10K_IOU_THRESHOLDS,
    box_iou,
    clip_to_image,
    mean_fps,
    success_curve,
    threshold_index,
)
from videoanalyst.formats.got10k import LABELS, read_got10k_groundtruth, read_got10k_meta
from videoanalyst.formats.number_rows import read_label_rows, read_number_rows
from videoanalyst.formats.sot_results import read_got10k_results, read_got10k_times, tracker_folders
from videoanalyst.sources.got10k import Got10kSource

#: Where GOT-10k test-split results are scored (their ground truth is withheld).
GOT10K_SERVER = "http://got-10k.aitestunion.com/"


@dataclass(frozen=True)
class Got10kSequenceScore:
    """One tracker on one sequence, all runs pooled.

    Args:
        ao, sr50, sr75: average overlap and success rates over the counted frames (NaN when none counts).
        speed_fps: mean of 1 / per-frame seconds; None without a time file.
        length: frames after the first (the toolkit's ``length``).
        runs: result files (repetitions) found.
    """

    ao: float
    sr50: float
    sr75: float
    speed_fps: float | None
    length: int
    runs: int


@dataclass(frozen=True)
class Got10kScore:
    """One tracker over the split: the headline numbers, the success curve at `GOT10K_IOU_THRESHOLDS` and the
    per-sequence scores (in the split's order)."""

    tracker: str
    ao: float
    sr50: float
    sr75: float
    speed_fps: float | None
    success_curve: np.ndarray
    sequences: dict[str, Got10kSequenceScore]


@dataclass(frozen=True)
class Got10kReport:
    """The GOT-10k scores of several trackers, as a text table, a JSON-ready dict and a success plot."""

    scores: list[Got10kScore]

    def table(self, per_sequence: bool = False) -> str:
        """Trackers one a row (AO, SR.50, SR.75, fps); with `per_sequence`, first a table of sequences one a row
        and the trackers side by side."""
        overall = format_table(
            ["tracker", "AO", "SR.50", "SR.75", "fps"], [[s.tracker, *_cells(s)] for s in self.scores]
        )
        if not per_sequence:
            return overall
        header = ["sequence"] + [f"{s.tracker} {m}" for s in self.scores for m in ("AO", "SR.50", "SR.75", "fps")]
        rows = [
            [name] + [cell for s in self.scores for cell in _cells(s.sequences[name])]
            for name in self.scores[0].sequences
        ]
        return format_table(header, rows) + "\n\n" + overall

    def to_dict(self) -> dict:
        """{"protocol": "got10k", "trackers": {name: {ao, sr50, sr75, speed_fps, success_curve, sequences}}}."""
        trackers = {
            s.tracker: {
                "ao": s.ao,
                "sr50": s.sr50,
                "sr75": s.sr75,
                "speed_fps": s.speed_fps,
                "success_curve": s.success_curve.tolist(),
                "sequences": {name: vars(seq) for name, seq in s.sequences.items()},
            }
            for s in self.scores
        }
        return {"protocol": "got10k", "trackers": trackers}

    def write_plots(self, folder: Path) -> list[Path]:
        """Write ``success_plot.png`` (the toolkit's name) into `folder`, the legend giving each tracker's AO."""
        return [
            plot_curves(
                folder / "success_plot.png",
                GOT10K_IOU_THRESHOLDS,
                {s.tracker: s.success_curve for s in self.scores},
                {s.tracker: s.ao for s in self.scores},
                title="Success plots on GOT-10k",
                xlabel="Overlap threshold",
                ylabel="Success rate",
            )
        ]


@dataclass(frozen=True)
class _Truth:
    name: str
    boxes: np.ndarray
    cover: np.ndarray
    size: tuple[float, float]


def evaluate_got10k(gt_root: Path, results_root: Path, trackers: list[str] | None = None) -> Got10kReport:
    """Score the results under `results_root` (``TRACKER/SEQ/SEQ_001.txt``...) against the GOT-10k validation
    folders under `gt_root` (a split folder, its sequences from ``list.txt`` else its sequence folders, as
    `Got10kSource` finds them; or one sequence folder).

    Args:
        trackers: tracker folder names to score, in this order; None: every folder under `results_root`.

    Raises:
        InputError: naming the file (and line) for missing or malformed ground truth or results, a NaN box on a
            counted frame, or test-split ground truth (scored only by the official server).
    """
    truths = [_read_truth(folder) for folder in Got10kSource(str(gt_root)).folders]
    return Got10kReport([_score_tracker(folder, truths) for folder in tracker_folders(results_root, trackers)])


def _read_truth(folder: Path) -> _Truth:
    """Boxes, cover levels and image size of one validation sequence folder."""
    path = folder / "groundtruth.txt"
    images = sorted(folder.glob("*.jpg"))
    boxes = read_got10k_groundtruth(path, len(images)) if images else read_number_rows(path, (4,))
    if len(boxes) == 1 and (len(images) > 1 or not (folder / "cover.label").is_file()):
        raise InputError(
            f"{path}: only the first frame's box, as in the GOT-10k test split, whose ground truth is "
            f"withheld: test-split AO / SR come only from the official server ({GOT10K_SERVER}); "
            f"submit the results there"
        )
    cover = read_label_rows(folder / "cover.label", len(boxes), LABELS["cover"])
    return _Truth(folder.name, boxes, cover, _image_size(folder, images))


def _image_size(folder: Path, images: list[Path]) -> tuple[float, float]:
    """Width, height from ``meta_info.ini``'s ``resolution: (W, H)`` (what the toolkit bounds boxes by), else from
    the first image."""
    meta = folder / "meta_info.ini"
    try:
        width, height = ast.literal_eval(read_got10k_meta(meta)["resolution"])
        return float(width), float(height)
    except (OSError, KeyError, ValueError, TypeError, SyntaxError):
        pass
    if not images:
        raise InputError(
            f"{meta}: no 'resolution: (width, height)' and no image to measure; the GOT-10k protocol "
            f"bounds boxes by the image"
        )
    with Image.open(images[0]) as image:
        return float(image.width), float(image.height)


def _score_tracker(tracker_folder: Path, truths: list[_Truth]) -> Got10kScore:
    sequences, all_ious, all_times = {}, [], []
    for truth in truths:
        runs = read_got10k_results(tracker_folder, truth.name, len(truth.boxes))
        ious = np.concatenate([_counted_ious(path, boxes, truth) for path, boxes in runs.items()])
        times = read_got10k_times(tracker_folder, truth.name)
        ao, sr50, sr75, speed, _ = _measures(ious, times)
        sequences[truth.name] = Got10kSequenceScore(ao, sr50, sr75, speed, len(truth.boxes) - 1, len(runs))
        all_ious.append(ious)
        all_times += [] if times is None else [times]
    ao, sr50, sr75, speed, curve = _measures(np.concatenate(all_ious), np.concatenate(all_times) if all_times else None)
    return Got10kScore(tracker_folder.name, ao, sr50, sr75, speed, curve, sequences)


def _counted_ious(path: Path, boxes: np.ndarray, truth: _Truth) -> np.ndarray:
    """IoUs on the frames the protocol counts: after the first, cover > 0; boxes bounded by the image."""
    counted = np.flatnonzero(truth.cover > 0)
    counted = counted[counted > 0]
    missing = counted[np.isnan(boxes[counted]).any(axis=1)]
    if len(missing):
        raise InputError(
            f"{path}:{missing[0] + 1}: no box (NaN) on a frame where the target is visible (cover > 0), "
            f"which the GOT-10k protocol counts; the toolkit's AO would be NaN: give a box on every "
            f"such frame"
        )
    return box_iou(clip_to_image(boxes[counted], *truth.size), clip_to_image(truth.boxes[counted], *truth.size))


def _measures(ious: np.ndarray, times: np.ndarray | None) -> tuple[float, float, float, float | None, np.ndarray]:
    """AO, SR.50, SR.75, fps and success curve (got10k ``ExperimentGOT10k._evaluate``)."""
    curve = success_curve(ious, GOT10K_IOU_THRESHOLDS)
    ao = float(np.mean(ious)) if len(ious) else float("nan")
    return (
        ao,
        float(curve[threshold_index(GOT10K_IOU_THRESHOLDS, 0.5)]),
        float(curve[threshold_index(GOT10K_IOU_THRESHOLDS, 0.75)]),
        mean_fps(times),
        curve,
    )


def _cells(score: Got10kScore | Got10kSequenceScore) -> list[str]:
    speed = "-" if score.speed_fps is None else f"{score.speed_fps:.1f}"
    return [f"{score.ao:.3f}", f"{score.sr50:.3f}", f"{score.sr75:.3f}", speed]
