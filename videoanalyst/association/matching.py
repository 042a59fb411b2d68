"""Box overlap matrices and the optimal assignment, as every associator uses them."""

from __future__ import annotations

import lap
import numpy as np


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(N, M) float64 IoU of (N, 4) and (M, 4) boxes in x1, y1, x2, y2; areas without the +1 pixel convention.

    Degenerate boxes (zero area on both sides) give 0, not NaN.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)[:, None, :]
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)[None, :, :]
    width = np.maximum(0.0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    height = np.maximum(0.0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    intersection = width * height
    union = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
             - intersection)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, intersection / union, 0.0)


def solve_assignment(cost: np.ndarray, cost_limit: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the minimum-cost one-to-one assignment (Jonker-Volgenant, `lap.lapjv`), by row.

    Args:
        cost: (N, M) costs; N and M may differ and may be 0.
        cost_limit: pairs costing more are never made: lapjv adds a dummy of this cost per row and column,
            so the solution may leave a row unmatched rather than take an expensive pair (ByteTrack's rule).
            None assigns min(N, M) pairs whatever they cost (SORT's rule, which filters pairs afterwards).

    Returns:
        (rows, cols): int64 arrays of equal length, rows ascending.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if cost_limit is None:
        _, row_to_col, _ = lap.lapjv(cost, extend_cost=True)
    else:
        _, row_to_col, _ = lap.lapjv(cost, extend_cost=True, cost_limit=cost_limit)
    rows = np.flatnonzero(row_to_col >= 0)
    return rows.astype(np.int64), row_to_col[rows].astype(np.int64)
