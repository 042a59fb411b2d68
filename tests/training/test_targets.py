"""Score-map targets against hand-computed cases (video_analyst make_densebox_target.py's rules)."""

import math

import pytest
import torch

from videoanalyst.training.targets import densebox_targets


def test_small_case_by_hand():
    # search 39 px, 3 x 3 cells, stride 8: offset (39 - 1 - 2 * 8) // 2 = 11, cells at 11, 19, 27.
    cls, ctr, boxes = densebox_targets(torch.tensor([10.0, 10.0, 28.0, 20.0]), 39, 3)
    # Rows y = 11, 19 are inside (t > 0, b > 0); y = 27 is below the box (b = 20 - 27 < 0). Every column is inside.
    assert cls.tolist() == [1, 1, 1, 1, 1, 1, 0, 0, 0]
    # (x, y) = (11, 11): l 1, r 17, t 1, b 9 -> sqrt(1 * 1 / (17 * 9 + 1e-5)); (19, 11): sqrt(9 * 1 / (9 * 9)) = 1/3.
    expected = [math.sqrt(1 / (153 + 1e-5)), math.sqrt(9 / (81 + 1e-5)), math.sqrt(1 / (153 + 1e-5))] * 2 + [0] * 3
    assert ctr.tolist() == pytest.approx(expected, rel=1e-6)
    assert boxes[:6].tolist() == [[10, 10, 28, 20]] * 6 and boxes[6:].abs().sum() == 0
    assert cls.dtype == ctr.dtype == boxes.dtype == torch.float32


def test_cells_on_the_border_are_not_positive():
    # The cell at x = 11 has l = 0: strictly inside is required (offset_on_fm > 0).
    cls, ctr, _ = densebox_targets(torch.tensor([11.0, 10.0, 28.0, 28.0]), 39, 3)
    assert cls.reshape(3, 3)[:, 0].tolist() == [0, 0, 0] and ctr.reshape(3, 3)[:, 0].tolist() == [0, 0, 0]
    assert cls.reshape(3, 3)[:, 1:].sum() == 6


def test_negative_pair_labels():
    positive = densebox_targets(torch.tensor([10.0, 10.0, 28.0, 20.0]), 39, 3)
    negative = densebox_targets(torch.tensor([10.0, 10.0, 28.0, 20.0]), 39, 3, negative=True)
    # Inside the box: background (0); elsewhere: ignored (-1). Centerness and boxes as for a positive pair.
    assert negative[0].tolist() == [0, 0, 0, 0, 0, 0, -1, -1, -1]
    assert torch.equal(negative[1], positive[1]) and torch.equal(negative[2], positive[2])


def test_reference_example_at_303():
    # make_densebox_target.py's own example box (13, 25, 100, 140) at x 303, 17 x 17 cells from 87 by 8:
    # x in (13, 100): 87, 95 -> columns 0, 1; y in (25, 140): 87 ... 135 -> rows 0 to 6; 14 positives.
    cls, ctr, _ = densebox_targets(torch.tensor([13.0, 25.0, 100.0, 140.0]), 303, 17)
    grid = cls.reshape(17, 17)
    assert grid.sum() == 14 and grid[:7, :2].sum() == 14
    # (x, y) = (95, 135): l 82, r 5, t 110, b 5.
    assert ctr.reshape(17, 17)[6, 1].item() == pytest.approx(math.sqrt(5 * 5 / (82 * 110 + 1e-5)), rel=1e-6)
