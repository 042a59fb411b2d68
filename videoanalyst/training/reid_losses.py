"""The ReID training loss: batch-hard triplet loss on the L2-normalised embeddings (Hermans, Beyer and Leibe 2017,
"In Defense of the Triplet Loss for Person Re-Identification") plus an identity cross-entropy on a classifier that
exists only in training (Luo et al. 2019, "Bag of Tricks and a Strong Baseline for Deep Person Re-identification")."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F


def batch_hard_triplet(embeddings: Tensor, labels: Tensor, margin: float) -> Tensor:
    """Mean over anchors of ``relu(d(a, hardest positive) - d(a, hardest negative) + margin)``, d Euclidean.

    Args:
        embeddings: (B, D) embeddings (L2-normalised in our training, so d is in [0, 2]).
        labels: (B,) identities; every anchor needs a positive and a negative in the batch (a PK batch has them).
        margin: how much farther the nearest other identity must be than the farthest same identity.
    """
    squared = embeddings.pow(2).sum(dim=1)
    # Clamped before the root: its gradient at 0 (an anchor and itself) would be infinite.
    distances = (squared[:, None] + squared[None, :] - 2 * embeddings @ embeddings.T).clamp_min(1e-12).sqrt()
    same = labels[:, None] == labels[None, :]
    hardest_positive = distances.masked_fill(~same, 0.0).amax(dim=1)
    hardest_negative = distances.masked_fill(same, float("inf")).amin(dim=1)
    return F.relu(hardest_positive - hardest_negative + margin).mean()


class ReidLoss(nn.Module):
    """``triplet_weight * batch_hard_triplet + identity_weight * cross_entropy``; returns each term and the sum.

    Args:
        triplet_margin: margin of the triplet loss.
        triplet_weight, identity_weight: weights of the two terms.
        label_smoothing: of the cross-entropy; it keeps the classifier from growing overconfident on few crops.
    """

    def __init__(
        self,
        triplet_margin: float = 0.3,
        triplet_weight: float = 1.0,
        identity_weight: float = 1.0,
        label_smoothing: float = 0.1,
    ) -> None:
        super().__init__()
        self.triplet_margin = triplet_margin
        self.triplet_weight = triplet_weight
        self.identity_weight = identity_weight
        self.label_smoothing = label_smoothing

    def forward(self, embeddings: Tensor, logits: Tensor, labels: Tensor) -> dict[str, Tensor]:
        """`embeddings` (B, D) L2-normalised, `logits` (B, C) of the identity classifier, `labels` (B,) int64."""
        triplet = batch_hard_triplet(embeddings, labels, self.triplet_margin)
        identity = F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing)
        loss = self.triplet_weight * triplet + self.identity_weight * identity
        return {"loss": loss, "triplet": triplet, "identity": identity}
