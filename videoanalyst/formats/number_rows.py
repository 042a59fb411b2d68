"""Read text files of numeric rows (annotation boxes, per-frame labels), each error naming the file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videoanalyst.errors import InputError


def read_number_rows(path: Path, columns: tuple[int, ...], nan_rows: bool = False) -> np.ndarray:
    """(N, C) float64 rows of a file of comma-separated (or, without commas, whitespace-separated) numbers.

    Args:
        path: the file.
        columns: allowed values counts per row; every row must have the same count.
        nan_rows: accept rows that are NaN throughout (VOT long-term ground truth marks absent frames so);
            NaN anywhere else is an error.

    Raises:
        InputError: naming the file (and line) for a missing or binary file, a blank line, a wrong value count,
            a non-numeric value or a NaN.
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        lines = path.read_text().rstrip().splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        fields = line.split(",") if "," in line else line.split()
        if len(fields) not in columns or (rows and len(fields) != len(rows[0])):
            expected = " or ".join(map(str, columns)) if not rows else str(len(rows[0]))
            raise InputError(f"{path}:{number}: expected {expected} values a row, got {len(fields)}: {line!r}")
        try:
            values = [float(field) for field in fields]
        except ValueError:
            raise InputError(f"{path}:{number}: non-numeric value in {line!r}") from None
        nans = np.isnan(values)
        if nans.any() and not (nan_rows and nans.all()):
            raise InputError(f"{path}:{number}: NaN in {line!r}")
        rows.append(values)
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(rows[0]) if rows else max(columns))


def read_label_rows(path: Path, num_frames: int, values: range = range(2), pad: bool = False) -> np.ndarray:
    """(num_frames,) int64 per-frame integer labels, one per line, each within `values`.

    Args:
        pad: a file shorter than `num_frames` is padded with 0 (VOT tag files may end at the last 1).

    Raises:
        InputError: naming the file and line for a value that is not an integer in `values`, or naming the
            file when its line count does not match the frame count.
    """
    labels = read_number_rows(path, (1,))[:, 0]
    if len(labels) > num_frames or (len(labels) < num_frames and not pad):
        raise InputError(f"{path}: expected one label a frame ({num_frames} lines), got {len(labels)}")
    wrong = np.flatnonzero((labels != np.round(labels)) | (labels < values.start) | (labels >= values.stop))
    if len(wrong):
        raise InputError(f"{path}:{wrong[0] + 1}: expected an integer from {values.start} to {values.stop - 1}, "
                         f"got {labels[wrong[0]]:g}")
    return np.pad(labels.astype(np.int64), (0, num_frames - len(labels)))


def format_label_rows(labels: np.ndarray) -> str:
    """Per-frame integer labels (bools as 0 / 1), one a line: the inverse of `read_label_rows`."""
    return "".join(f"{int(v)}\n" for v in labels)
