"""VOT2018 supervised (baseline) evaluation offline: accuracy, robustness and EAO of recorded runs, equal to what
vot-toolkit 0.9.0's ``vot analysis`` computes (``vot/analysis/supervised.py``: ``compute_accuracy``,
``AccuracyRobustness``, ``AverageAccuracyRobustness``, ``EAOCurve``, ``compute_eao_curve``, ``EAOScore``;
``vot/stack/vot2018/shortterm.yaml``: 15 repetitions, EAO over 100..356).

The protocol, as that toolkit applies it:
- results are ``TRACKER/baseline/SEQ/SEQ_001.txt`` ... ``SEQ_015.txt``, whichever exist (`videoanalyst.formats.
  vot_results`); ground truth a VOT sequence folder, regions as written (rectangles stay rectangles);
- overlaps are the raster overlaps bounded by the image (`videoanalyst.evaluators.vot_overlap`), the image size
  from the ``sequence`` file's ``width`` / ``height`` when both are there, else from the first image;
- accuracy of a run: mean overlap over its frames that are neither skipped (0), failed (2), nor within the burn-in
  (an initialisation and the 9 frames after it); 0 for a run without such a frame. A sequence's accuracy and
  failure count are means over its runs; a tracker's A and R are means over sequences weighted by their frame
  counts N_s: A = sum N_s A_s / sum N_s, R = sum N_s F_s / sum N_s (R is a failure count, not a rate);
- EAO: every run is cut at its failures into pieces, initialisation frame to the frame before the failure (failed,
  padded with zeros to the longest piece) and the last initialisation to the end (not failed, counted only over
  its own length); all pieces of all runs of all sequences weigh 1. The curve at length L is, over the pieces
  that count there, the mean of each piece's mean overlap over frames 1..L (frame 0 is the initialisation; the
  curve at L = 0 is the initialisation frame's overlap). EAO is the mean of the curve over the lengths
  low..high that exist: a longest piece shorter than `high` shortens the average, one shorter than `low` gives
  no EAO (NaN; ``null`` in JSON).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from videoanalyst.errors import InputError
from videoanalyst.evaluators.plots import format_table
from videoanalyst.evaluators.vot_overlap import region_overlaps
from videoanalyst.evaluators.vot_plots import plot_eao_curves
from videoanalyst.formats.number_rows import read_number_rows
from videoanalyst.formats.sot_results import tracker_folders
from videoanalyst.formats.vot import read_vot_sequence_file, read_vot_tags
from videoanalyst.formats.vot_results import (
    FAILURE,
    INITIALIZATION,
    SKIPPED,
    VotRun,
    read_vot_run,
    vot_result_path,
)
from videoanalyst.sources.vot import VotSource

#: VOT2018 baseline settings (``vot/stack/vot2018/shortterm.yaml``; the burn-in is ``AccuracyRobustness.burnin``).
VOT2018_REPETITIONS = 15
VOT2018_BURNIN = 10
VOT2018_EAO_INTERVAL = (100, 356)
#: The supervised experiment's folder name under a tracker's results.
BASELINE = "baseline"


@dataclass(frozen=True)
class VotSequence:
    """A VOT sequence as the supervised protocol needs it.

    Args:
        folder: the sequence folder; its name is the sequence's name.
        images: the frames' image files, in order.
        regions: one ground-truth region a frame, as written: x, y, w, h or x1, y1, ..., x4, y4; empty where the
            row is NaN (target absent).
        size: image (width, height) that bounds the overlaps.
        tags: per-frame tags by name, (N,) bool each (``occlusion.tag``...).
    """

    folder: Path
    images: list[Path]
    regions: list[np.ndarray]
    size: tuple[int, int]
    tags: dict[str, np.ndarray]

    @property
    def name(self) -> str:
        """The sequence's name, its folder's."""
        return self.folder.name

    def __len__(self) -> int:
        return len(self.images)


def read_vot_sequences(root: Path, sequences: list[str] | None = None) -> list[VotSequence]:
    """The sequences of a VOT ``sequences`` folder (those of its ``list.txt``, else its sequence folders, as
    `VotSource` finds them), or of one sequence folder.

    Args:
        sequences: names to read, in this order; None: all.

    Raises:
        InputError: naming the file (and line) for a missing folder, image or malformed ground truth.
    """
    source = VotSource(str(root), sequences)
    return [_read_sequence(source, folder) for folder in source.folders]


@dataclass(frozen=True)
class VotSequenceScore:
    """One tracker on one sequence: accuracy and failures, each the mean over the runs found.

    Args:
        frames: the sequence's frame count, its weight in A and R.
        runs: result files (repetitions) found.
    """

    accuracy: float
    failures: float
    frames: int
    runs: int


@dataclass(frozen=True)
class VotScore:
    """One tracker over the data set.

    Args:
        accuracy: A, frame-count-weighted mean of the sequences' accuracies.
        robustness: R, frame-count-weighted mean of the sequences' failure counts.
        failures: the sequences' failure counts (means over runs) summed.
        eao: expected average overlap over `eao_interval`; NaN when the curve does not reach its start.
        eao_interval: (low, high) sequence lengths, both included.
        eao_curve: the expected average overlap at every length 0 .. longest piece - 1.
        sequences: per-sequence scores, in the data set's order.
    """

    tracker: str
    accuracy: float
    robustness: float
    failures: float
    eao: float
    eao_interval: tuple[int, int]
    eao_curve: np.ndarray
    sequences: dict[str, VotSequenceScore]


@dataclass(frozen=True)
class VotReport:
    """The VOT scores of several trackers, as a text table, a JSON-ready dict and an EAO-curve plot."""

    scores: list[VotScore]

    def table(self, per_sequence: bool = False) -> str:
        """Trackers one a row (A, R, failures, EAO); with `per_sequence`, first a table of sequences one a row,
        the trackers' accuracy and failures side by side."""
        overall = format_table(
            ["tracker", "A", "R", "failures", "EAO"],
            [
                [
                    s.tracker,
                    f"{s.accuracy:.3f}",
                    f"{s.robustness:.3f}",
                    f"{s.failures:.1f}",
                    "-" if math.isnan(s.eao) else f"{s.eao:.3f}",
                ]
                for s in self.scores
            ],
        )
        if not per_sequence:
            return overall
        header = ["sequence"] + [f"{s.tracker} {m}" for s in self.scores for m in ("A", "failures")]
        rows = [
            [name]
            + [
                cell
                for s in self.scores
                for cell in (f"{s.sequences[name].accuracy:.3f}", f"{s.sequences[name].failures:.1f}")
            ]
            for name in self.scores[0].sequences
        ]
        return format_table(header, rows) + "\n\n" + overall

    def to_dict(self) -> dict:
        """{"protocol": "vot-supervised", "trackers": {name: {accuracy, robustness, failures, eao, eao_interval,
        eao_curve, sequences: {name: {accuracy, failures, frames, runs}}}}}; a missing EAO is null."""
        trackers = {
            s.tracker: {
                "accuracy": s.accuracy,
                "robustness": s.robustness,
                "failures": s.failures,
                "eao": None if math.isnan(s.eao) else s.eao,
                "eao_interval": list(s.eao_interval),
                "eao_curve": s.eao_curve.tolist(),
                "sequences": {name: vars(seq) for name, seq in s.sequences.items()},
            }
            for s in self.scores
        }
        return {"protocol": "vot-supervised", "trackers": trackers}

    def write_plots(self, folder: Path) -> list[Path]:
        """Write ``eao_curves.png`` into `folder`: every tracker's EAO curve, the interval shaded."""
        interval = self.scores[0].eao_interval
        return [
            plot_eao_curves(
                folder / "eao_curves.png",
                {s.tracker: s.eao_curve for s in self.scores},
                {s.tracker: s.eao for s in self.scores},
                interval,
            )
        ]


def evaluate_vot(
    gt_root: Path,
    results_root: Path,
    trackers: list[str] | None = None,
    *,
    experiment: str = BASELINE,
    repetitions: int = VOT2018_REPETITIONS,
    burnin: int = VOT2018_BURNIN,
    eao_interval: tuple[int, int] = VOT2018_EAO_INTERVAL,
) -> VotReport:
    """Score the supervised runs under `results_root` (``TRACKER/<experiment>/SEQ/SEQ_001.txt``...) against the
    VOT sequences under `gt_root` (a ``sequences`` folder or one sequence folder).

    Args:
        trackers: tracker folder names, in this order; None: every folder under `results_root`.
        repetitions: runs looked for, ``SEQ_001`` .. ``SEQ_<repetitions>``; those missing are skipped, as the
            toolkit skips them (a deterministic tracker stops after 3 identical runs).
        burnin: frames from each initialisation left out of accuracy, the initialisation frame included.
        eao_interval: (low, high) lengths the EAO averages the curve over, both included.

    Raises:
        InputError: naming the file (and line) for missing or malformed ground truth or results, or a sequence
            without any run.
        ValueError: for settings out of range.
    """
    if repetitions < 1 or burnin < 0 or not 0 <= eao_interval[0] <= eao_interval[1]:
        raise ValueError(
            f"evaluate_vot: need repetitions >= 1, burnin >= 0, 0 <= low <= high; got {repetitions}, {burnin}, "
            f"{eao_interval}"
        )
    sequences = read_vot_sequences(gt_root)
    return VotReport(
        [
            _score_tracker(folder.name, folder / experiment, sequences, repetitions, burnin, eao_interval)
            for folder in tracker_folders(results_root, trackers)
        ]
    )


def _score_tracker(
    name: str,
    folder: Path,
    sequences: list[VotSequence],
    repetitions: int,
    burnin: int,
    eao_interval: tuple[int, int],
) -> VotScore:
    """One tracker's `VotScore` from its experiment folder (``SEQ/SEQ_001.txt``...), settings as `evaluate_vot`."""
    scores, pieces = {}, []
    for sequence in sequences:
        runs = read_vot_runs(folder / sequence.name, sequence, repetitions)
        overlaps = np.split(
            region_overlaps([r for run in runs for r in run.regions], sequence.regions * len(runs), sequence.size),
            len(runs),
        )
        accuracies = [run_accuracy(run, o, burnin) for run, o in zip(runs, overlaps)]
        failures = [int(np.count_nonzero(run.codes == FAILURE)) for run in runs]
        scores[sequence.name] = VotSequenceScore(
            float(np.mean(accuracies)), float(np.mean(failures)), len(sequence), len(runs)
        )
        pieces += [piece for run, o in zip(runs, overlaps) for piece in eao_pieces(run, o)]
    frames = np.array([s.frames for s in scores.values()], dtype=np.float64)
    accuracy = float(np.dot(frames, [s.accuracy for s in scores.values()]) / frames.sum())
    robustness = float(np.dot(frames, [s.failures for s in scores.values()]) / frames.sum())
    curve = eao_curve(pieces)
    return VotScore(
        name,
        accuracy,
        robustness,
        float(sum(s.failures for s in scores.values())),
        eao_score(curve, eao_interval),
        tuple(eao_interval),
        curve,
        scores,
    )


def read_vot_runs(folder: Path, sequence: VotSequence, repetitions: int) -> list[VotRun]:
    """The runs ``SEQ_001.txt`` .. ``SEQ_<repetitions>.txt`` of one sequence that exist, in order.

    Raises:
        InputError: naming ``SEQ_001.txt`` when no run exists; as `read_vot_run` for a malformed one.
    """
    paths = [vot_result_path(folder, sequence.name, i) for i in range(1, repetitions + 1)]
    runs = [read_vot_run(path, len(sequence)) for path in paths if path.is_file()]
    if not runs:
        raise InputError(f"{paths[0]}: no such VOT result file (nor any of the {repetitions} repetitions)")
    return runs


def run_accuracy(run: VotRun, overlaps: np.ndarray, burnin: int = VOT2018_BURNIN) -> float:
    """Mean overlap of one run over the frames accuracy counts: not skipped, not failed, not within `burnin`
    frames from an initialisation (that frame included); 0 when no frame counts (``compute_accuracy``)."""
    counted = (run.codes != SKIPPED) & (run.codes != FAILURE)
    for start in np.flatnonzero(run.codes == INITIALIZATION):
        counted[start : start + burnin] = False
    return float(np.mean(overlaps[counted])) if counted.any() else 0.0


def eao_pieces(run: VotRun, overlaps: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    """One run cut for the EAO (``EAOCurve.subcompute``): (overlaps, failed) from each initialisation to the frame
    before its failure (failed), and from the last initialisation to the end when no failure follows it."""
    starts = np.flatnonzero(run.codes == INITIALIZATION)
    ends = np.flatnonzero(run.codes == FAILURE)
    pieces = [(overlaps[start:end], True) for start, end in zip(starts, ends)]
    if len(starts) > len(ends):
        pieces.append((overlaps[starts[-1] :], False))
    return pieces


def eao_curve(pieces: list[tuple[np.ndarray, bool]]) -> np.ndarray:
    """(L,) expected average overlap at lengths 0 .. L - 1, L the longest piece (``compute_eao_curve``, all weights
    1): a failed piece counts at every length with zeros after its end, a piece that reached the end only up to
    its own length; at length j >= 1 each counted piece contributes the mean of its overlaps 1..j."""
    longest = max(len(overlaps) for overlaps, _ in pieces)
    padded = np.zeros((len(pieces), longest))
    counts = np.zeros((len(pieces), longest), dtype=bool)
    for i, (overlaps, failed) in enumerate(pieces):
        padded[i, : len(overlaps)] = overlaps
        counts[i, : longest if failed else len(overlaps)] = True
    averages = padded.copy()
    averages[:, 1:] = np.cumsum(padded[:, 1:], axis=1) / np.arange(1, longest)
    return np.where(counts, averages, 0.0).sum(axis=0) / counts.sum(axis=0)


def eao_score(curve: np.ndarray, interval: tuple[int, int] = VOT2018_EAO_INTERVAL) -> float:
    """Mean of `curve` over the lengths low..high (both included) that it has; NaN when it has none
    (``EAOScore.compute``)."""
    low, high = interval
    values = curve[low : high + 1]
    return float(np.mean(values)) if len(values) else float("nan")


def _read_sequence(source: VotSource, folder: Path) -> VotSequence:
    """Images (as `VotSource` lists them, which also checks the ground truth's row count), ground-truth regions as
    written, image size and tags of one sequence folder."""
    images = source.read_sequence(folder).images
    rows = read_number_rows(folder / "groundtruth.txt", (4, 8), nan_rows=True)
    regions = [row if not np.isnan(row).any() else np.zeros(0) for row in rows]
    return VotSequence(folder, images, regions, _image_size(folder, images[0]), read_vot_tags(folder, len(images)))


def _image_size(folder: Path, first_image: Path) -> tuple[int, int]:
    """(width, height) from the ``sequence`` file when it gives both as integers, else the first image's, as the
    toolkit takes them (``vot/dataset/common.py``: ``_read_metadata``, ``_read_data``)."""
    description = folder / "sequence"
    config = read_vot_sequence_file(description) if description.is_file() else {}
    try:
        return int(config["width"]), int(config["height"])
    except (KeyError, ValueError):
        pass
    try:
        with Image.open(first_image) as image:
            return image.size
    except OSError as error:
        raise InputError(f"{first_image}: cannot read the image size ({error})") from None
