"""Run the original SORT (abewley/sort, commit 2236dff, `sort.py`) from its checkout, unmodified, and time it.

Its module imports matplotlib (switching to the TkAgg backend) and scikit-image at the top, for its display mode
only; the one shim here puts empty stand-ins for those modules in `sys.modules` before importing it, so neither
a display nor scikit-image is needed. Its tracking code runs as written, with filterpy and lap.

    python evaluation/reference/abewley_sort.py --reference /tmp/ref/sort --detections DETS.csv --out TRACKS.csv \
        [--max-age 1] [--min-hits 3] [--iou-threshold 0.3]

DETS.csv rows: frame (1-based), x1, y1, x2, y2, score (as tests/association/data/sort_detections.csv).
TRACKS.csv rows: frame, id, x1, y1, x2, y2, as its `Sort.update` returns them (ids from 1), full float64
precision. Its id counter is a class attribute, shared by every instance: `run_original` resets it to 0 so that
each stream's ids start at 1, as ours do.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Imported by the original for its display mode only.
_DISPLAY_MODULES = ("matplotlib", "matplotlib.pyplot", "matplotlib.patches", "skimage", "skimage.io")


def import_original(reference: Path) -> types.ModuleType:
    """The original `sort` module from the checkout `reference`, display imports stubbed out."""
    if not (Path(reference) / "sort.py").is_file():
        raise SystemExit(f"{reference}: no sort.py here; pass a checkout of abewley/sort (commit 2236dff)")
    saved = {name: sys.modules.get(name) for name in _DISPLAY_MODULES}
    for name in _DISPLAY_MODULES:
        stand_in = types.ModuleType(name)
        stand_in.use = lambda *args, **kwargs: None  # matplotlib.use('TkAgg')
        sys.modules[name] = stand_in
    sys.path.insert(0, str(reference))
    try:
        return importlib.import_module("sort")
    finally:
        sys.path.remove(str(reference))
        for name, module in saved.items():
            if module is None:
                del sys.modules[name]
            else:
                sys.modules[name] = module


def run_original(module: types.ModuleType, frames: Sequence[np.ndarray], max_age: int = 1, min_hits: int = 3,
                 iou_threshold: float = 0.3) -> tuple[list[np.ndarray], np.ndarray]:
    """Its `Sort.update` over one stream: (per frame, (K, 5) x1, y1, x2, y2, id), (per frame, seconds in update).

    Args:
        frames: per frame, (M, 5) float64 detections x1, y1, x2, y2, score (M may be 0).
    """
    module.KalmanBoxTracker.count = 0
    tracker = module.Sort(max_age=max_age, min_hits=min_hits, iou_threshold=iou_threshold)
    outputs, seconds = [], np.zeros(len(frames))
    for index, detections in enumerate(frames):
        start = time.perf_counter()
        tracks = tracker.update(detections)
        seconds[index] = time.perf_counter() - start
        outputs.append(tracks)
    return outputs, seconds


def read_detections(path: Path) -> list[np.ndarray]:
    """DETS.csv (frame from 1, x1, y1, x2, y2, score, any more columns) -> (M, 5) per frame up to the last frame
    named; the values are rounded to float32 first, as our `Detections` hold them, so both trackers see the same."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    values = rows[:, 1:6].astype(np.float32).astype(np.float64)
    count = int(rows[:, 0].max()) if len(rows) else 0
    return [values[rows[:, 0] == frame] for frame in range(1, count + 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="checkout of abewley/sort")
    parser.add_argument("--detections", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--max-age", type=int, default=1)
    parser.add_argument("--min-hits", type=int, default=3)
    parser.add_argument("--iou-threshold", type=float, default=0.3)
    args = parser.parse_args(argv)
    outputs, seconds = run_original(import_original(args.reference), read_detections(args.detections),
                                    args.max_age, args.min_hits, args.iou_threshold)
    rows = [[frame, track[4], *track[:4]] for frame, tracks in enumerate(outputs, 1) for track in tracks]
    np.savetxt(args.out, np.array(rows).reshape(-1, 6), fmt=["%d", "%d"] + ["%.17g"] * 4, delimiter=",")
    print(f"{len(outputs)} frames, {len(rows)} track boxes, {1000 * seconds.mean():.3f} ms/frame in Sort.update")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
