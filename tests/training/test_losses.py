"""Losses on hand-computed values (video_analyst focal_loss.py, sigmoid_ce_centerness.py, iou_loss.py)."""

import math

import pytest
import torch

from videoanalyst.models.siamfcpp.network import SearchOutput
from videoanalyst.training.losses import SiamFCppLoss, centerness_loss, focal_loss, iou_loss

LN2 = math.log(2)


def test_focal_loss_by_hand():
    # Logit 0: p = 0.5, BCE = ln 2, (1 - p_t)^2 = 1/4. Positive: alpha 0.25 -> ln2 / 16; negative: 0.75 -> 3 ln2 / 16;
    # the ignored cell (-1) adds nothing; divided by the one positive.
    logits = torch.zeros(1, 3)
    labels = torch.tensor([[1.0, 0.0, -1.0]])
    assert focal_loss(logits, labels, 0.25, 2.0).item() == pytest.approx(LN2 / 4, rel=1e-6)
    # No positive at all: divided by 1, not 0.
    assert focal_loss(logits, torch.tensor([[0.0, 0.0, -1.0]]), 0.25, 2.0).item() == pytest.approx(6 * LN2 / 16)


def test_centerness_loss_subtracts_the_target_entropy():
    # Target 0.5 at logit 0: BCE ln2 - entropy ln2 = 0; target 1: ln2 - 0; target 0: not counted. Mean over 2 cells.
    loss = centerness_loss(torch.zeros(1, 3), torch.tensor([[0.5, 1.0, 0.0]]))
    assert loss.item() == pytest.approx(LN2 / 2, rel=1e-6)


def test_iou_loss_by_hand():
    # Inclusive convention: (0, 0, 9, 9) is 10 x 10 = 100, (0, 0, 4, 9) is 5 x 10 = 50, IoU 0.5, loss ln 2.
    boxes = torch.tensor([[[0.0, 0.0, 9.0, 9.0], [0.0, 0.0, 9.0, 9.0]]])
    targets = torch.tensor([[[0.0, 0.0, 4.0, 9.0], [0.0, 0.0, 0.0, 0.0]]])
    loss, iou = iou_loss(boxes, targets, torch.tensor([[1.0, 0.0]]))
    assert loss.item() == pytest.approx(LN2, rel=1e-6) and iou.item() == pytest.approx(0.5)
    # Disjoint boxes: IoU 0, loss -log(float32 tiny), finite.
    loss, _ = iou_loss(boxes, targets + 20, torch.tensor([[1.0, 0.0]]))
    assert loss.item() == pytest.approx(-math.log(torch.finfo(torch.float32).tiny))


def test_weighted_sum_and_gradients():
    output = SearchOutput(
        torch.zeros(1, 2, requires_grad=True),
        torch.zeros(1, 2, requires_grad=True),
        torch.tensor([[[0.0, 0.0, 9.0, 9.0]] * 2], requires_grad=True),
    )
    cls = torch.tensor([[1.0, 0.0]])
    ctr = torch.tensor([[1.0, 0.0]])
    boxes = torch.tensor([[[0.0, 0.0, 4.0, 9.0], [0.0, 0.0, 0.0, 0.0]]])
    losses = SiamFCppLoss()(output, cls, ctr, boxes)
    assert losses["cls"].item() == pytest.approx(LN2 / 16 + 3 * LN2 / 16, rel=1e-6)
    assert losses["ctr"].item() == pytest.approx(LN2, rel=1e-6)
    assert losses["reg"].item() == pytest.approx(3 * LN2, rel=1e-6)  # IOULoss weight 3
    assert losses["loss"].item() == pytest.approx(LN2 / 4 + LN2 + 3 * LN2, rel=1e-6)
    losses["loss"].backward()
    assert output.boxes.grad[0, 1].abs().sum() == 0  # no box loss off the positives
    assert output.cls_logits.grad.abs().sum() > 0
