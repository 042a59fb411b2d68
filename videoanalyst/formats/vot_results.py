"""VOT supervised-experiment result files, ``<seq>_NNN.txt``: one line a frame, comma-separated.

A line is a code (``1``: the tracker was initialised on this frame, ``2``: it failed here, ``0``: frame skipped
after a failure) or the tracker's region, a rectangle ``x,y,w,h`` or a polygon ``x1,y1,...,xK,yK`` (K >= 3).
What vot-toolkit 0.9.0 does with these files (``vot/region/io.py``: ``parse_region``, ``read_trajectory``;
``vot/tracker/results.py``: ``Trajectory``), and what we do:

- values are split on commas only (spaces around them are fine): a space- or tab-separated line is an error there
  too; 1 value is a code, 4 a rectangle, an even number >= 6 a polygon, anything else an error here (the toolkit
  reads 2 values as a point and fails later on other counts);
- a row with a NaN becomes an unknown frame (code 0) there; here it is an error, as no tracker run writes one;
- a file with fewer (or more) lines than the sequence has frames stops the toolkit's analysis (its overlap
  computation refuses lists of different lengths): a missing frame is never padded, and here it is an error too;
- the per-frame times go to ``<seq>_NNN_time.value`` (``Trajectory.write``: one file a property, named
  ``<name>_<property>.value``), one number of seconds a line, an empty line for a frame without a time;
- the toolkit itself writes ``<seq>_NNN.bin`` unless its ``results_binary`` setting is off, and reads a ``.txt``
  first when both exist; only text files are read here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videoanalyst.errors import InputError

#: The codes of a supervised run (``vot/tracker/results.py``: ``Trajectory.UNKNOWN / INITIALIZATION / FAILURE``).
SKIPPED, INITIALIZATION, FAILURE = 0, 1, 2
#: In `VotRun.codes`: the frame holds a region.
TRACKED = -1


@dataclass(frozen=True)
class VotRun:
    """One supervised run of a tracker over a sequence.

    Args:
        codes: (N,) int64 per frame: `INITIALIZATION`, `FAILURE`, `SKIPPED`, or `TRACKED` where the line is a region.
        regions: N float64 arrays: x, y, w, h (rectangle) or x1, y1, ..., xK, yK (polygon); empty on code frames.
    """

    codes: np.ndarray
    regions: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.codes)


def vot_result_path(folder: Path, sequence: str, repetition: int = 1) -> Path:
    """``<folder>/<sequence>_NNN.txt``, the result file of run `repetition` (1-based)."""
    return folder / f"{sequence}_{repetition:03d}.txt"


def vot_time_path(folder: Path, sequence: str, repetition: int = 1) -> Path:
    """``<folder>/<sequence>_NNN_time.value``, the per-frame times of run `repetition`, named as the toolkit names
    a trajectory's ``time`` property file."""
    return folder / f"{sequence}_{repetition:03d}_time.value"


def read_vot_run(path: Path, num_frames: int | None = None) -> VotRun:
    """A result file as a `VotRun`.

    Args:
        num_frames: the sequence's frame count; the file must have exactly one line a frame. None: not checked.

    Raises:
        InputError: naming the file (and line) for a missing file, a line count other than `num_frames`, a blank
            line, a line not split by commas into 1, 4 or an even number >= 6 numbers, a NaN or infinite value,
            a negative width or height, a code other than 0, 1, 2, or codes out of protocol order (the first line
            is not 1, or 1 and 2 do not alternate).
    """
    if not path.is_file():
        raise InputError(f"{path}: no such VOT result file")
    lines = path.read_text().rstrip().splitlines()
    if num_frames is not None and len(lines) != num_frames:
        raise InputError(
            f"{path}: expected one line a frame ({num_frames} lines), got {len(lines)}; the toolkit "
            f"does not pad missing frames either"
        )
    codes = np.full(len(lines), TRACKED, dtype=np.int64)
    regions = []
    for number, line in enumerate(lines, start=1):
        values = _parse_line(path, number, line)
        if len(values) == 1:
            if values[0] not in (SKIPPED, INITIALIZATION, FAILURE):
                raise InputError(
                    f"{path}:{number}: expected a code 0 (skipped), 1 (initialised) or 2 (failed), got {line.strip()!r}"
                )
            codes[number - 1] = int(values[0])
            values = []
        regions.append(np.array(values, dtype=np.float64))
    _check_protocol(path, codes)
    return VotRun(codes, regions)


def format_vot_region(region: np.ndarray) -> str:
    """A result line for a region (rectangle or polygon): each value as the shortest decimal that reads back as
    the same float32, the precision at which the toolkit stores regions (``vot/region/shapes.py``)."""
    return ",".join(np.format_float_positional(np.float32(v), trim="-") for v in region) + "\n"


def format_vot_code(code: int) -> str:
    """A result line for a code frame: ``1``, ``2`` or ``0``."""
    return f"{code}\n"


def _check_protocol(path: Path, codes: np.ndarray) -> None:
    """A supervised run starts with an initialisation and alternates initialisations and failures (the toolkit pairs
    the i-th initialisation with the i-th failure)."""
    marks = np.flatnonzero((codes == INITIALIZATION) | (codes == FAILURE))
    expected = np.resize([INITIALIZATION, FAILURE], len(marks))
    wrong = np.flatnonzero(codes[marks] != expected)
    if len(codes) and (not len(marks) or marks[0] != 0):
        raise InputError(f"{path}:1: expected the run to start with an initialisation (1)")
    if len(wrong):
        line = marks[wrong[0]] + 1
        wanted = "a failure (2)" if expected[wrong[0]] == FAILURE else "an initialisation (1)"
        raise InputError(
            f"{path}:{line}: expected {wanted} next, as a supervised run alternates them; got {codes[line - 1]}"
        )


def _parse_line(path: Path, number: int, line: str) -> list[float]:
    fields = line.split(",")
    if not line.strip():
        raise InputError(f"{path}:{number}: blank line; expected a code or a region")
    count = len(fields)
    if count not in (1, 4) and (count < 6 or count % 2):
        raise InputError(
            f"{path}:{number}: expected 1 (code), 4 (x,y,w,h) or an even number >= 6 (polygon) of "
            f"comma-separated values, got {count}: {line!r}"
        )
    try:
        values = [float(field) for field in fields]
    except ValueError:
        raise InputError(f"{path}:{number}: expected comma-separated numbers, got {line!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"{path}:{number}: NaN or infinite value in {line!r}")
    if count == 4 and (values[2] < 0 or values[3] < 0):
        raise InputError(f"{path}:{number}: negative width or height in {line!r}")
    return values
