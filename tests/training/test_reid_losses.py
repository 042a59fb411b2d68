"""The ReID losses: batch-hard triplet on hand-worked cases, the identity term is label-smoothed cross-entropy."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from videoanalyst.training.reid_losses import ReidLoss, batch_hard_triplet

LABELS = torch.tensor([0, 0, 1, 1])


def test_batch_hard_triplet_takes_the_farthest_positive_and_the_nearest_negative():
    # On a line: identity 0 at 0 and 1, identity 1 at 1.5 and 3.
    points = torch.tensor([[0.0], [1.0], [1.5], [3.0]])
    # anchor: (hardest positive, hardest negative): 0: (1, 1.5), 1: (1, 0.5), 1.5: (1.5, 0.5), 3: (1.5, 2)
    expected = (max(1 - 1.5 + 0.3, 0) + (1 - 0.5 + 0.3) + (1.5 - 0.5 + 0.3) + max(1.5 - 2 + 0.3, 0)) / 4
    assert batch_hard_triplet(points, LABELS, margin=0.3).item() == pytest.approx(expected, abs=1e-5)


def test_separated_identities_cost_nothing_and_gradients_are_finite():
    points = torch.tensor([[1.0, 0.0], [0.99, 0.141], [-1.0, 0.0], [-0.99, -0.141]], requires_grad=True)
    loss = batch_hard_triplet(points, LABELS, margin=0.3)
    assert loss.item() == 0
    collapsed = torch.ones((4, 2), requires_grad=True)  # every distance 0, including anchor-to-itself
    loss = batch_hard_triplet(collapsed, LABELS, margin=0.3)
    loss.backward()
    assert loss.item() == pytest.approx(0.3, abs=1e-5) and torch.isfinite(collapsed.grad).all()


def test_reid_loss_weights_the_triplet_and_smoothed_identity_terms():
    torch.manual_seed(0)
    embeddings, logits = F.normalize(torch.randn(4, 8), dim=1), torch.randn(4, 5)
    losses = ReidLoss(triplet_margin=0.3, triplet_weight=2.0, identity_weight=0.5, label_smoothing=0.1)(
        embeddings, logits, LABELS
    )
    identity = F.cross_entropy(logits, LABELS, label_smoothing=0.1)
    torch.testing.assert_close(losses["identity"], identity)
    torch.testing.assert_close(losses["triplet"], batch_hard_triplet(embeddings, LABELS, 0.3))
    torch.testing.assert_close(losses["loss"], 2 * losses["triplet"] + 0.5 * identity)
