"""IoU matrix and the optimal assignment, as hand-computed."""

import numpy as np
import pytest

from videoanalyst.association.matching import iou_matrix, solve_assignment


def test_iou_matrix_values_shapes_and_degenerate_boxes():
    a = np.array([[0, 0, 10, 10], [5, 5, 15, 15], [3, 3, 3, 3]], dtype=np.float32)
    b = np.array([[0, 0, 10, 10], [10, 10, 20, 20]], dtype=np.float32)
    iou = iou_matrix(a, b)
    assert iou.shape == (3, 2) and iou.dtype == np.float64
    np.testing.assert_allclose(iou, [[1.0, 0.0], [25 / 175, 25 / 175], [0.0, 0.0]])
    assert iou_matrix(np.zeros((0, 4)), b).shape == (0, 2)


@pytest.mark.parametrize("cost, limit, rows, cols", [
    ([[0.9, 0.2], [0.1, 0.95], [0.5, 0.5]], None, [0, 1], [1, 0]),
    ([[0.9, 0.2], [0.1, 0.95], [0.5, 0.5]], 0.15, [1], [0]),
    ([[5.0, 6.0]], None, [0], [0]),
    (np.zeros((0, 3)), None, [], []),
])
def test_solve_assignment(cost, limit, rows, cols):
    got_rows, got_cols = solve_assignment(np.array(cost), limit)
    assert got_rows.tolist() == rows and got_cols.tolist() == cols
