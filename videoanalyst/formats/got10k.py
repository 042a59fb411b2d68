"""GOT-10k sequence folders: ``groundtruth.txt`` boxes, per-frame ``*.label`` files and ``meta_info.ini``.

Boxes are ``x,y,w,h`` rows (top-left corner and size, pixels), one a frame; the test split has only the first
frame's row. Labels have one integer a line: ``absence`` 1 where the target is out of view or fully occluded,
``cut_by_image`` 1 where its box reaches past the image border, ``cover`` its visible ratio in 9 levels (`cover_level`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videoanalyst.core.target_state import TargetState
from videoanalyst.errors import InputError
from videoanalyst.formats.number_rows import read_label_rows, read_number_rows

#: The label files of a sequence folder (``<name>.label``) and the values each may hold.
LABELS = {"absence": range(2), "cover": range(9), "cut_by_image": range(2)}


def read_got10k_groundtruth(path: Path, num_frames: int) -> np.ndarray:
    """(N, 4) float64 boxes x, y, w, h: N = num_frames, or N = 1 for a test-split sequence (first frame only).

    Raises:
        InputError: naming the file (and line) for a malformed row or another row count.
    """
    rows = read_number_rows(path, (4,))
    if len(rows) not in (1, num_frames):
        raise InputError(f"{path}: expected one x,y,w,h row a frame ({num_frames} rows) or only the first frame's "
                         f"(test split), got {len(rows)} rows")
    return rows


def read_got10k_labels(folder: Path, num_frames: int) -> dict[str, np.ndarray]:
    """The per-frame labels a sequence folder has, by name (of `LABELS`), each (num_frames,) int64."""
    return {name: read_label_rows(folder / f"{name}.label", num_frames, values)
            for name, values in LABELS.items() if (folder / f"{name}.label").is_file()}


def got10k_targets(boxes: np.ndarray, absence: np.ndarray | None) -> list[TargetState]:
    """One `TargetState` a row of x, y, w, h `boxes`; present=False with a NaN box where `absence` is 1."""
    return [TargetState.from_xywh(box) if absence is None or not absence[i] else
            TargetState(np.full(4, np.nan), present=False) for i, box in enumerate(boxes)]


def read_got10k_meta(path: Path) -> dict[str, str]:
    """``meta_info.ini`` as {key: value}: a ``[METAINFO]`` header, then ``key: value`` lines."""
    meta = {}
    for line in path.read_text().splitlines()[1:]:
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip()] = value.strip()
    return meta


def got10k_fps(meta: dict[str, str]) -> float | None:
    """The annotation frame rate from meta info's ``anno_fps`` (e.g. ``10Hz``); None when absent or unreadable."""
    try:
        return float(meta["anno_fps"].lower().removesuffix("hz"))
    except (KeyError, ValueError):
        return None


def cover_level(visibility: np.ndarray) -> np.ndarray:
    """GOT-10k cover levels of visible ratios in [0, 1]: 0 hidden; 1 to 6 up to 15, 30, 45, 60, 75, 90 %;
    7 under 100 %; 8 fully visible."""
    visibility = np.asarray(visibility, dtype=np.float64)
    levels = np.clip(np.ceil(visibility / 0.15 - 1e-9), 1, 7).astype(np.int64)
    return np.where(visibility <= 0, 0, np.where(visibility >= 1, 8, levels))


def format_got10k_boxes(xywh: np.ndarray) -> str:
    """Ground-truth rows ``x,y,w,h`` with 4 decimals, as GOT-10k writes them."""
    return "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in np.asarray(xywh, dtype=np.float64))


def format_got10k_meta(meta: dict[str, str]) -> str:
    """``meta_info.ini`` text for {key: value}."""
    return "[METAINFO]\n" + "".join(f"{key}: {value}\n" for key, value in meta.items())
