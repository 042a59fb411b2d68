"""SiamFC++'s training losses, as video_analyst computes them (megvii-research/video_analyst,
videoanalyst/model/loss/loss_impl/focal_loss.py, sigmoid_ce_centerness.py, iou_loss.py): a focal loss on the
classification logits, a binary cross-entropy on the centerness logits and an IoU loss on the boxes, each summed
over the batch and divided by its own count of cells, then weighted."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F
from torchvision.ops import sigmoid_focal_loss

from videoanalyst.models.siamfcpp.network import SearchOutput

#: Smallest IoU whose log is taken (video_analyst's SafeLog: np.finfo(np.float32).tiny).
_TINY = torch.finfo(torch.float32).tiny


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, alpha: float, gamma: float) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al. 2017) of (B, N) logits against labels 1 / 0 / -1 (ignored), summed over the
    cells not ignored and divided by the number of positive cells in the batch (at least 1), as FocalLoss."""
    valid = labels >= 0
    positive = labels > 0
    loss = sigmoid_focal_loss(logits, positive.to(logits.dtype), alpha=alpha, gamma=gamma, reduction="none")
    return (loss * valid).sum() / positive.sum().clamp(min=1)


def centerness_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of (B, N) centerness logits against targets in [0, 1] on the cells whose target is not
    0, minus the targets' own entropy (so a perfect prediction scores 0), divided by the number of those cells (at
    least 1), as SigmoidCrossEntropyCenterness. Negative pairs count too: their targets are those of the box."""
    mask = targets != 0
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    loss = loss - F.binary_cross_entropy(targets, targets, reduction="none")
    return (loss * mask).sum() / mask.sum().clamp(min=1)


def iou_loss(boxes: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """-log IoU of (B, N, 4) predicted boxes against target boxes, both x1, y1, x2, y2 with the inclusive
    convention (areas ``(x2 - x1 + 1) (y2 - y1 + 1)``), on the positive cells (label 1), divided by their number (at
    least 1), as IOULoss; also their mean IoU (no gradient)."""
    mask = labels > 0
    target_area = (targets[..., 2] - targets[..., 0] + 1).abs() * (targets[..., 3] - targets[..., 1] + 1).abs()
    box_area = (boxes[..., 2] - boxes[..., 0] + 1).abs() * (boxes[..., 3] - boxes[..., 1] + 1).abs()
    width = torch.minimum(boxes[..., 2], targets[..., 2]) - torch.maximum(boxes[..., 0], targets[..., 0]) + 1
    height = torch.minimum(boxes[..., 3], targets[..., 3]) - torch.maximum(boxes[..., 1], targets[..., 1]) + 1
    intersection = width.clamp(min=0) * height.clamp(min=0)
    iou = (intersection / (target_area + box_area - intersection)).clamp(min=0)
    count = mask.sum().clamp(min=1)
    loss = (-iou.clamp(min=_TINY).log() * mask).sum() / count
    return loss, (iou.detach() * mask).sum() / count


@dataclass(frozen=True)
class SiamFCppLoss:
    """The weighted sum of the three losses (video_analyst's RegularTrainer sums the weighted losses).

    Args:
        focal_alpha, focal_gamma: of the focal loss.
        cls_weight, ctr_weight, iou_weight: weights of the classification, centerness and IoU losses.
    """

    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    cls_weight: float = 1.0
    ctr_weight: float = 1.0
    iou_weight: float = 3.0

    def __call__(
        self, output: SearchOutput, cls: torch.Tensor, ctr: torch.Tensor, boxes: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """The network's output for B pairs against their (B, S*S) cls, ctr and (B, S*S, 4) box targets ->
        ``loss`` (to minimise), the weighted parts ``cls``, ``ctr``, ``reg``, and ``iou`` (mean IoU, a metric)."""
        cls_loss = self.cls_weight * focal_loss(output.cls_logits, cls, self.focal_alpha, self.focal_gamma)
        ctr_loss = self.ctr_weight * centerness_loss(output.ctr_logits, ctr)
        reg_loss, iou = iou_loss(output.boxes, boxes, cls)
        reg_loss = self.iou_weight * reg_loss
        return {"loss": cls_loss + ctr_loss + reg_loss, "cls": cls_loss, "ctr": ctr_loss, "reg": reg_loss, "iou": iou}
