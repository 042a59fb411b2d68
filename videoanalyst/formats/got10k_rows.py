"""GOT-10k / OTB box rows <-> `TargetState`: ``x,y,w,h`` per frame, comma-separated.

The GOT-10k toolkit writes results with ``%.3f`` and per-frame tracking times with ``%.8f`` seconds,
one column per repetition (`got10k.experiments.ExperimentGOT10k._record`); we write the same.
"""

from __future__ import annotations

import numpy as np

from videoanalyst.core.target_state import TargetState


def target_to_got10k_row(target: TargetState) -> str:
    """One result line ``x,y,w,h`` (``nan`` where the tracker gave no box)."""
    return ",".join(f"{v:.3f}" for v in target.xywh) + "\n"


def format_time_rows(times: np.ndarray) -> str:
    """Per-frame seconds, (N,) or (N, repetitions), as the toolkit's time file."""
    times = np.asarray(times, dtype=np.float64)
    times = times[:, None] if times.ndim == 1 else times
    return "".join(",".join(f"{t:.8f}" for t in row) + "\n" for row in times)
