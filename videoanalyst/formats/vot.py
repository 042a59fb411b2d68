"""VOT sequence folders: ``groundtruth.txt`` regions, the ``sequence`` file and per-frame ``*.tag`` files.

Ground-truth rows are polygons ``x1,y1,...,x4,y4`` (VOT2016-2018) or rectangles ``x,y,w,h``; a row of NaNs marks
a frame where the target is absent (VOT long-term). The ``sequence`` file holds ``key=value`` lines such as
``channels.color=color/%08d.jpg`` and ``fps=30``. A tag file holds one 0/1 a frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videoanalyst.core.boxes import xywh_to_xyxy
from videoanalyst.core.target_state import TargetState
from videoanalyst.errors import InputError
from videoanalyst.formats.number_rows import read_label_rows, read_number_rows


def read_vot_groundtruth(path: Path, num_frames: int) -> np.ndarray:
    """(num_frames, 8) float64 polygons x1, y1, ..., x4, y4, rectangle rows turned into their corners; NaN rows
    where the target is absent.

    Raises:
        InputError: naming the file (and line) for a malformed row or a row count other than `num_frames`.
    """
    rows = read_number_rows(path, (4, 8), nan_rows=True)
    if len(rows) != num_frames:
        raise InputError(f"{path}: expected one region a frame ({num_frames} rows), got {len(rows)}")
    return rows if rows.shape[1] == 8 else xyxy_to_vot_polygon(xywh_to_xyxy(rows))


def vot_targets(polygons: np.ndarray) -> list[TargetState]:
    """One `TargetState` a polygon row; present=False with a NaN box on NaN rows."""
    return [TargetState.from_polygon(row) if not np.isnan(row).any() else
            TargetState(np.full(4, np.nan), present=False) for row in polygons]


def xyxy_to_vot_polygon(xyxy: np.ndarray) -> np.ndarray:
    """(..., 4) boxes x1, y1, x2, y2 -> (..., 8) corners clockwise from the top-left."""
    x1, y1, x2, y2 = np.moveaxis(np.asarray(xyxy, dtype=np.float64), -1, 0)
    return np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=-1)


def read_vot_sequence_file(path: Path) -> dict[str, str]:
    """The ``sequence`` file as {key: value}.

    Raises:
        InputError: naming the file and line for a line that is not ``key=value``.
    """
    config = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep:
                raise InputError(f"{path}:{number}: expected key=value, got {line!r}")
            config[key.strip()] = value.strip()
    return config


def read_vot_tags(folder: Path, num_frames: int) -> dict[str, np.ndarray]:
    """Every ``<name>.tag`` file of a sequence folder as (num_frames,) bool, by name; missing last lines are 0."""
    return {path.stem: read_label_rows(path, num_frames, pad=True).astype(bool)
            for path in sorted(folder.glob("*.tag"))}


def format_vot_regions(polygons: np.ndarray) -> str:
    """Ground-truth rows of 8 values with 4 decimals; NaN rows as ``nan,...``."""
    return "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in np.asarray(polygons, dtype=np.float64))


def format_vot_sequence_file(config: dict[str, str]) -> str:
    """The ``sequence`` file text for {key: value}."""
    return "".join(f"{key}={value}\n" for key, value in config.items())

