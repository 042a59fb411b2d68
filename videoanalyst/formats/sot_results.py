"""Single-object tracking result files, read with every error naming the file (and line).

Layouts, under a results folder holding one folder per tracker:
- GOT-10k (got10k ``ExperimentGOT10k``): ``TRACKER/SEQ/SEQ_001.txt`` (``_002``... for repeated runs), one
  ``x,y,w,h`` row a frame, and ``TRACKER/SEQ/SEQ_time.txt``, per-frame seconds, one column per run;
- OPE / OTB (got10k ``ExperimentOTB``): ``TRACKER/SEQ.txt`` and ``TRACKER/times/SEQ_time.txt``.

Rows may be comma-, tab- or space-separated. A row of NaN (``nan,nan,nan,nan``: the tracker gave no box, as
`videoanalyst.formats.got10k_rows` writes it) is kept as NaN for the evaluator to rule on; a row NaN in only some
values, a negative width or height, or another row count than the sequence's frame count is an error.
"""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np

from videoanalyst.errors import InputError
from videoanalyst.formats.number_rows import read_number_rows

#: OPE ground-truth file names in a sequence folder, in the order looked for (OTB's, then LaSOT's / ours).
OPE_GROUNDTRUTH_FILES = ("groundtruth_rect.txt", "groundtruth.txt")


def read_sot_boxes(path: Path, num_frames: int | None = None) -> np.ndarray:
    """(N, 4) float64 x, y, w, h rows of a result or ground-truth file; all-NaN rows kept as NaN.

    Args:
        num_frames: the row count required (a result file: the ground truth's frame count); None: any.

    Raises:
        InputError: naming the file (and line) when it is missing, has another row count, a row of other than 4
            values (a wrong delimiter reads as one value), a non-numeric or partly NaN row, or a negative size.
    """
    rows = read_number_rows(path, (4,), nan_rows=True)
    if num_frames is not None and len(rows) != num_frames:
        raise InputError(
            f"{path}: expected one x,y,w,h row a frame ({num_frames} rows, as the ground truth has "
            f"frames), got {len(rows)}"
        )
    negative = np.flatnonzero((rows[:, 2:] < 0).any(axis=1))
    if len(negative):
        raise InputError(
            f"{path}:{negative[0] + 1}: negative width or height in x,y,w,h "
            f"{', '.join(f'{v:g}' for v in rows[negative[0]])}"
        )
    return rows


def tracker_folders(results_root: Path, trackers: list[str] | None = None) -> list[Path]:
    """The folders of `trackers` under `results_root`, in that order; None: every sub-folder, by name.

    Raises:
        InputError: naming the folder when it is missing, holds no tracker folder, or lacks a named one.
    """
    if not results_root.is_dir():
        raise InputError(f"{results_root}: no such results folder")
    found = sorted(folder for folder in results_root.iterdir() if folder.is_dir())
    if trackers is None:
        if not found:
            raise InputError(f"{results_root}: no tracker folders in the results folder")
        return found
    missing = [name for name in trackers if not (results_root / name).is_dir()]
    if missing:
        raise InputError(
            f"{results_root}: no results of tracker {missing[0]!r}; there are: "
            f"{', '.join(folder.name for folder in found[:20]) or 'none'}"
        )
    return [results_root / name for name in trackers]


def read_got10k_results(tracker_folder: Path, sequence: str, num_frames: int) -> dict[Path, np.ndarray]:
    """{file: (num_frames, 4) boxes} of every run ``SEQ_001.txt``, ``SEQ_002.txt``... of one sequence, in name
    order (the files ``ExperimentGOT10k.report`` globs as ``SEQ_[0-9]*.txt``).

    Raises:
        InputError: naming the folder when it or its result files are missing; as `read_sot_boxes` for a file.
    """
    folder = tracker_folder / sequence
    if not folder.is_dir():
        raise InputError(f"{folder}: no results of sequence {sequence!r} (expected {sequence}/{sequence}_001.txt)")
    files = sorted(Path(f) for f in glob.glob(str(folder / f"{glob.escape(sequence)}_[0-9]*.txt")))
    if not files:
        raise InputError(f"{folder}: no result file {sequence}_001.txt")
    return {path: read_sot_boxes(path, num_frames) for path in files}


def read_got10k_times(tracker_folder: Path, sequence: str) -> np.ndarray | None:
    """The positive per-frame seconds in ``TRACKER/SEQ/SEQ_time.txt`` (all runs); None when the file is absent."""
    return read_times(tracker_folder / sequence / f"{sequence}_time.txt")


def read_ope_results(tracker_folder: Path, sequence: str, num_frames: int) -> np.ndarray:
    """(num_frames, 4) boxes of ``TRACKER/SEQ.txt``; as `read_sot_boxes` for errors."""
    return read_sot_boxes(tracker_folder / f"{sequence}.txt", num_frames)


def read_ope_times(tracker_folder: Path, sequence: str) -> np.ndarray | None:
    """The positive per-frame seconds in ``TRACKER/times/SEQ_time.txt``; None when the file is absent."""
    return read_times(tracker_folder / "times" / f"{sequence}_time.txt")


def read_ope_groundtruth(folder: Path) -> np.ndarray:
    """(N, 4) x, y, w, h rows of a sequence folder's ground truth (`OPE_GROUNDTRUTH_FILES`, the first present),
    one a frame; all-NaN rows (UAV123 marks absent targets so) kept as NaN.

    Raises:
        InputError: naming the folder when no ground-truth file is there; the file and line for a bad row.
    """
    for name in OPE_GROUNDTRUTH_FILES:
        path = folder / name
        if path.is_file():
            return read_sot_boxes(path)
    raise InputError(f"{folder}: no ground-truth file ({' or '.join(OPE_GROUNDTRUTH_FILES)})")


def read_times(path: Path) -> np.ndarray | None:
    """The positive values of a time file (comma- or space-separated seconds, any number of columns), flattened;
    None when the file is absent. NaN (runs of other lengths are padded so), zero and negative times are left out,
    as both got10k experiments leave them out.

    `read_number_rows` does not fit here: it refuses rows NaN in only some columns, which such padding writes.

    Raises:
        InputError: naming the file and line for a value that is not a number.
    """
    if not path.is_file():
        return None
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    values: list[float] = []
    for number, line in enumerate(lines, start=1):
        try:
            values += [float(value) for value in line.replace(",", " ").split()]
        except ValueError:
            raise InputError(f"{path}:{number}: expected per-frame seconds, got {line!r}") from None
    values = np.array(values, dtype=np.float64)
    return values[values > 0]
