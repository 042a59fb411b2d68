"""MOTChallenge evaluation of tracker result files: CLEAR (MOTA, MOTP, ...) and identity (IDF1, ...) metrics
through motmetrics, HOTA through `videoanalyst.evaluators.hota`, after the MOT17 preprocessing of TrackEval
(JonathonLuiten/TrackEval ``trackeval/datasets/mot_challenge_2d_box.py``).

Layout: ground truth ``<gt_root>/<SEQ>/gt/gt.txt`` + ``seqinfo.ini`` (MOT17 train split), results
``<results_root>/<tracker>/<SEQ>.txt`` (what `MotTxtSink` writes). Ratios are fractions in [0, 1]; the table
shows them as percentages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import motmetrics as mm
import numpy as np
from scipy.optimize import linear_sum_assignment

from videoanalyst.core.detections import Detections
from videoanalyst.errors import InputError
from videoanalyst.evaluators.hota import combine_hota, hota_counts
from videoanalyst.formats.mot17 import read_mot_seqinfo
from videoanalyst.formats.mot_rows import MotKind, read_mot_file

#: The only gt class evaluated (TrackEval ``class_name_to_class_id``: pedestrian 1).
PEDESTRIAN = 1
#: Predictions matched to gt boxes of these classes are removed before evaluation: person on vehicle 2, static
#: person 7, distractor 8, reflection 12 (TrackEval's MOT16/17 list; MOT20 adds non-MOT vehicle 6).
DISTRACTOR_CLASSES = (2, 7, 8, 12)
#: gt classes MOTChallenge defines (1 pedestrian ... 13 crowd); TrackEval refuses others.
GT_CLASSES = range(1, 14)
#: IoU a prediction needs to match a gt box, for CLEAR, identity and the distractor removal (TrackEval, devkit).
MATCH_IOU = 0.5
#: Slack on IoU comparisons, TrackEval's ``np.finfo('float').eps``.
_EPS = np.finfo(np.float64).eps
#: Key of the all-sequences column of a tracker's results.
COMBINED = "COMBINED"
#: A frame without rows; it has gt's ``consider`` field, so it serves as gt and as predictions.
_EMPTY_FRAME = Detections.empty().replace(extra={"consider": np.zeros(0, np.int64)})

#: Report columns, in table order: True for ratios (fractions, shown as percentages), False for counts.
#: MOTP is MOTChallenge's / TrackEval's: the mean IoU of the CLEAR matches (motmetrics reports 1 - that).
#: MT / PT / ML and Frag follow motmetrics: tracked for >= 80 %, 20-80 %, < 20 % of the object's frames (TrackEval:
#: > 80 %); Frag counts tracked -> missed changes within the object's tracked span (TrackEval also counts an object
#: picked up again after it left the ground truth).
COLUMNS = {
    "HOTA": True,
    "DetA": True,
    "AssA": True,
    "MOTA": True,
    "MOTP": True,
    "IDF1": True,
    "IDP": True,
    "IDR": True,
    "Rcll": True,
    "Prcn": True,
    "FP": False,
    "FN": False,
    "IDSW": False,
    "Frag": False,
    "MT": False,
    "PT": False,
    "ML": False,
    "GT_IDs": False,
    "GT_Dets": False,
    "Dets": False,
    "DetRe": True,
    "DetPr": True,
    "AssRe": True,
    "AssPr": True,
    "LocA": True,
    "OWTA": True,
    "HOTA(0)": True,
    "LocA(0)": True,
    "HOTALocA(0)": True,
}
#: motmetrics metric -> our column.
_MOTMETRICS_COLUMNS = {
    "mota": "MOTA",
    "idf1": "IDF1",
    "idp": "IDP",
    "idr": "IDR",
    "recall": "Rcll",
    "precision": "Prcn",
    "num_false_positives": "FP",
    "num_misses": "FN",
    "num_switches": "IDSW",
    "num_fragmentations": "Frag",
    "mostly_tracked": "MT",
    "partially_tracked": "PT",
    "mostly_lost": "ML",
    "num_unique_objects": "GT_IDs",
    "num_objects": "GT_Dets",
    "num_predictions": "Dets",
}


@dataclass(frozen=True)
class SequenceMatches:
    """One sequence after preprocessing, one entry a frame: the evaluated gt ids, the kept predicted ids and their
    (G, P) IoU."""

    gt_ids: list[np.ndarray]
    tracker_ids: list[np.ndarray]
    ious: list[np.ndarray]


@dataclass(frozen=True)
class MotReport:
    """Metrics of each tracker: ``results[tracker][sequence]`` and ``results[tracker][COMBINED]``, each a
    {column: value} dict over `COLUMNS`, ratios as fractions."""

    results: dict[str, dict[str, dict[str, float]]]
    sequences: list[str]

    def table(self, per_sequence: bool = False) -> str:
        """Trackers side by side, one metric a row, ratios in percent; the combined block, preceded by one block a
        sequence when `per_sequence`."""
        blocks = [*self.sequences, COMBINED] if per_sequence else [COMBINED]
        trackers = list(self.results)
        width = max([9, *map(len, trackers)])
        label = max(map(len, [*COLUMNS, *blocks]))
        lines = []
        for block in blocks:
            lines.append(f"{block:<{label}}  " + "  ".join(f"{t:>{width}}" for t in trackers))
            for column, is_ratio in COLUMNS.items():
                values = [self.results[t][block][column] for t in trackers]
                cells = [f"{100 * v:.2f}" if is_ratio else f"{v:.0f}" for v in values]
                lines.append(f"{column:<{label}}  " + "  ".join(f"{c:>{width}}" for c in cells))
            lines.append("")
        return "\n".join(lines[:-1]) + "\n"

    def to_dict(self) -> dict:
        """JSON-serialisable: {"sequences": [...], "columns": [...], "trackers": {tracker: {sequence or
        COMBINED: {column: value}}}}."""
        return {"sequences": list(self.sequences), "columns": list(COLUMNS), "trackers": self.results}


def evaluate_mot(gt_root: Path, results_root: Path, trackers: list[str] | None = None) -> MotReport:
    """CLEAR, identity and HOTA metrics of every tracker on every sequence of a MOT17-layout split.

    Args:
        gt_root: a split folder of sequence folders (``<SEQ>/gt/gt.txt``, ``<SEQ>/seqinfo.ini``), or one such
            sequence folder.
        results_root: holds one folder a tracker with one ``<SEQ>.txt`` a sequence; files of other sequences are
            ignored.
        trackers: the tracker folders to evaluate; None: every folder in `results_root`, sorted.

    Raises:
        InputError: naming the folder, file (and line) for a missing folder or sequence result, a malformed row,
            a frame past the sequence's length, an id twice in one frame, or an unknown gt class.
    """
    gt_root, results_root = Path(gt_root), Path(results_root)
    folders = _sequence_folders(gt_root)
    lengths = {folder.name: read_mot_seqinfo(folder / "seqinfo.ini").seq_length for folder in folders}
    ground_truth = {
        folder.name: _frames(read_ground_truth(folder / "gt" / "gt.txt", lengths[folder.name]), lengths[folder.name])
        for folder in folders
    }
    results = {}
    for tracker in _tracker_names(results_root, trackers):
        sequences = {}
        for name, gt_frames in ground_truth.items():
            path = results_root / tracker / f"{name}.txt"
            if not path.is_file():
                raise InputError(
                    f"{path}: no result file of tracker {tracker!r} for sequence {name} "
                    f"(expected <results_root>/<tracker>/<sequence>.txt)"
                )
            predictions = _frames(read_results(path, lengths[name]), lengths[name])
            sequences[name] = match_sequence(gt_frames, predictions)
        results[tracker] = evaluate_sequences(sequences)
    return MotReport(results, list(ground_truth))


def evaluate_sequences(sequences: Mapping[str, SequenceMatches]) -> dict[str, dict[str, float]]:
    """`COLUMNS` of each preprocessed sequence and of all of them together (key `COMBINED`): CLEAR and identity
    metrics from motmetrics (overall as its ``generate_overall`` sums them), HOTA combined as TrackEval does."""
    clear = clear_identity_metrics(sequences)
    hota = {name: hota_counts(m.gt_ids, m.tracker_ids, m.ious) for name, m in sequences.items()}
    hota[COMBINED] = combine_hota(list(hota.values()))
    rows = {}
    for name in [*sequences, COMBINED]:
        values = {**clear[name], **hota[name].summary()}
        rows[name] = {column: values[column] for column in COLUMNS}
    return rows


def clear_identity_metrics(sequences: Mapping[str, SequenceMatches]) -> dict[str, dict[str, float]]:
    """motmetrics' CLEAR and identity metrics of each sequence and `COMBINED`, under our column names.

    The IoU distances are computed here (`box_iou`) and fed to ``MOTAccumulator.update``: motmetrics' own
    ``iou_matrix`` calls ``np.asfarray``, which NumPy 2 removed. Pairs below `MATCH_IOU` are not matchable.
    """
    accumulators = []
    for matches in sequences.values():
        accumulator = mm.MOTAccumulator(auto_id=False)
        for frame, (gt, tracker, iou) in enumerate(zip(matches.gt_ids, matches.tracker_ids, matches.ious), 1):
            distance = np.where(iou >= MATCH_IOU - _EPS, 1.0 - iou, np.nan)
            accumulator.update(gt, tracker, distance, frameid=frame)
        accumulators.append(accumulator)
    summary = mm.metrics.create().compute_many(
        accumulators,
        metrics=[*_MOTMETRICS_COLUMNS, "motp", "num_detections"],
        names=list(sequences),
        generate_overall=True,
    )
    rows = {}
    for name, (_, row) in zip([*sequences, COMBINED], summary.iterrows()):
        values = {column: float(row[metric]) for metric, column in _MOTMETRICS_COLUMNS.items()}
        values["MOTP"] = 1.0 - float(row["motp"]) if row["num_detections"] > 0 else 0.0  # TrackEval: 0 without matches
        rows[name] = values
    return rows


def match_sequence(gt_frames: Sequence[Detections], predictions: Sequence[Detections]) -> SequenceMatches:
    """`match_frame` on each frame of a sequence (the two lists aligned frame by frame)."""
    frames = [match_frame(gt, predicted) for gt, predicted in zip(gt_frames, predictions, strict=True)]
    return SequenceMatches(*(list(column) for column in zip(*frames))) if frames else SequenceMatches([], [], [])


def match_frame(gt: Detections, predicted: Detections) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MOT17 preprocessing of one frame (TrackEval ``MotChallenge2DBox.get_preprocessed_seq_data``).

    Predictions are matched one-to-one to all gt boxes (any class, any ``consider`` flag) by the Hungarian
    algorithm on IoU, pairs below `MATCH_IOU` excluded; those matched to a `DISTRACTOR_CLASSES` box are dropped.
    Of the gt, only pedestrians with ``consider`` != 0 are kept.

    Args:
        gt: gt boxes with track_ids, class_ids and the extra field ``consider`` (as `read_mot_file` gives them).
        predicted: predicted boxes with track_ids.

    Returns:
        (G,) kept gt ids, (P,) kept predicted ids, (G, P) float64 IoU between them.
    """
    iou = box_iou(gt.xyxy, predicted.xyxy)
    keep = np.ones(len(predicted), dtype=bool)
    if len(gt) and len(predicted):
        score = np.where(iou >= MATCH_IOU - _EPS, iou, 0.0)
        rows, cols = linear_sum_assignment(-score)
        matched = score[rows, cols] > _EPS
        keep[cols[matched & np.isin(gt.class_ids[rows], DISTRACTOR_CLASSES)]] = False
    evaluated = (gt.extra["consider"] != 0) & (gt.class_ids == PEDESTRIAN)
    return gt.track_ids[evaluated], predicted.track_ids[keep], iou[evaluated][:, keep]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) float64 IoU of (N, 4) and (M, 4) x1, y1, x2, y2 boxes; 0 where either box has no area or the union
    is empty (TrackEval ``_BaseDataset._calculate_box_ious``)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    low = np.maximum(a[:, None, :2], b[None, :, :2])
    high = np.minimum(a[:, None, 2:], b[None, :, 2:])
    intersection = np.prod(np.clip(high - low, 0.0, None), axis=-1)
    area_a, area_b = np.prod(a[:, 2:] - a[:, :2], axis=-1), np.prod(b[:, 2:] - b[:, :2], axis=-1)
    union = area_a[:, None] + area_b[None, :] - intersection
    valid = (area_a[:, None] > _EPS) & (area_b[None, :] > _EPS) & (union > _EPS)
    return np.divide(intersection, union, out=np.zeros_like(intersection), where=valid)


def read_results(path: Path, num_frames: int) -> dict[int, Detections]:
    """A MOTChallenge result file as {frame: Detections}, checked as TrackEval checks it.

    Raises:
        InputError: naming the file and line for what `read_mot_file` refuses, an infinite value, a frame past
            `num_frames`, or a track id twice in one frame.
    """
    return _read_checked(path, "result", num_frames)


def read_ground_truth(path: Path, num_frames: int) -> dict[int, Detections]:
    """A MOT17 ``gt.txt`` as {frame: Detections}, checked as `read_results`, and for classes outside
    `GT_CLASSES`."""
    frames = _read_checked(path, "gt", num_frames)
    for frame, detections in frames.items():
        unknown = ~np.isin(detections.class_ids, GT_CLASSES)
        if unknown.any():
            line = _line_of(path, lambda row: row[0] == frame and row[7] not in GT_CLASSES)
            raise InputError(
                f"{path}:{line}: class {detections.class_ids[unknown][0]} is not a MOTChallenge class "
                f"(expected {GT_CLASSES.start}..{GT_CLASSES.stop - 1}, pedestrian = {PEDESTRIAN})"
            )
    return frames


def _read_checked(path: Path, kind: MotKind, num_frames: int) -> dict[int, Detections]:
    """`read_mot_file` plus the checks it leaves to us: finite boxes, frames within the sequence, unique ids."""
    if path.is_file() and not path.read_text().strip():
        return {}  # a tracker may output nothing for a sequence; read_mot_file fails on an empty file
    frames = read_mot_file(path, kind)
    for frame, detections in frames.items():
        if frame > num_frames:
            line = _line_of(path, lambda row: row[0] > num_frames)
            raise InputError(f"{path}:{line}: frame {frame} is past the sequence's {num_frames} frames")
        if not np.isfinite(detections.xyxy).all():
            line = _line_of(path, lambda row: row[0] == frame and not np.isfinite(row[2:6]).all())
            raise InputError(f"{path}:{line}: infinite box value")
        ids, counts = np.unique(detections.track_ids, return_counts=True)
        if (counts > 1).any():
            twice = ids[counts > 1][0]
            line = _line_of(path, lambda row: row[0] == frame and row[1] == twice, occurrence=2)
            raise InputError(
                f"{path}:{line}: id {twice} appears twice in frame {frame} (ids must be unique within a frame)"
            )
    return frames


def _line_of(path: Path, match: Callable[[np.ndarray], bool], occurrence: int = 1) -> int:
    """1-based number of the `occurrence`-th line whose values satisfy `match`; for error messages only (the file
    has passed `read_mot_file`, so every non-blank line parses)."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            row = np.array([float(v) for v in line.replace(" ", "").replace("\t", "").split(",")[:10]])
            occurrence -= bool(match(row))
            if occurrence == 0:
                return number
    raise AssertionError(f"{path}: no line matches")  # unreachable: callers search for a row they found


def _frames(by_frame: Mapping[int, Detections], num_frames: int) -> list[Detections]:
    """{1-based frame: Detections} -> one `Detections` a frame, empty where the file has no rows."""
    return [by_frame[frame] if frame in by_frame else _EMPTY_FRAME for frame in range(1, num_frames + 1)]


def _sequence_folders(gt_root: Path) -> list[Path]:
    if (gt_root / "gt" / "gt.txt").is_file():
        return [gt_root]
    if not gt_root.is_dir():
        raise InputError(f"{gt_root}: no such folder")
    folders = sorted(folder for folder in gt_root.iterdir() if (folder / "gt" / "gt.txt").is_file())
    if not folders:
        raise InputError(f"{gt_root}: no MOT17 sequence folders in it (expected <sequence>/gt/gt.txt)")
    return folders


def _tracker_names(results_root: Path, trackers: list[str] | None) -> list[str]:
    if not results_root.is_dir():
        raise InputError(f"{results_root}: no such results folder")
    if trackers is None:
        trackers = sorted(folder.name for folder in results_root.iterdir() if folder.is_dir())
        if not trackers:
            raise InputError(f"{results_root}: no tracker folders in it (expected <tracker>/<sequence>.txt)")
    for tracker in trackers:
        if not (results_root / tracker).is_dir():
            raise InputError(f"{results_root / tracker}: no such tracker folder")
    return list(trackers)
