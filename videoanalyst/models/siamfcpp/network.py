"""SiamFC++ (Xu et al., AAAI 2020): a Siamese backbone, adjustment convolutions, depth-wise correlation and the
densebox head, with the template and search halves callable apart so a tracker computes the template once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn
from torch.nn import functional as F

from videoanalyst.models.backbones.alexnet import AlexNetBN
from videoanalyst.models.backbones.conv_block import ConvBlock
from videoanalyst.models.backbones.googlenet import GoogLeNetTruncated
from videoanalyst.models.siamfcpp.head import DenseboxHead

#: Side of the exemplar (template) crop every published SiamFC++ model takes.
EXEMPLAR_SIZE = 127


@dataclass(frozen=True)
class TemplateKernels:
    """Template features of K targets, used as correlation kernels: (K, C, k, k) each."""

    cls: torch.Tensor
    reg: torch.Tensor

    def __len__(self) -> int:
        return self.cls.shape[0]

    def select(self, index: torch.Tensor | slice | Sequence[int]) -> TemplateKernels:
        """The kernels of some targets, in the given order."""
        return TemplateKernels(self.cls[index], self.reg[index])

    @staticmethod
    def concatenate(parts: Sequence[TemplateKernels]) -> TemplateKernels:
        """Stack the kernels of several target sets."""
        return TemplateKernels(torch.cat([p.cls for p in parts]), torch.cat([p.reg for p in parts]))


@dataclass(frozen=True)
class SearchOutput:
    """The network's answer for K search crops of side X, over S x S score cells in row-major order.

    cls_logits, ctr_logits: (K, S*S) raw logits; `scores` is sigmoid(cls) * sigmoid(ctr), the tracker's score.
    boxes: (K, S*S, 4) x1, y1, x2, y2 in search-crop pixels.
    """

    cls_logits: torch.Tensor
    ctr_logits: torch.Tensor
    boxes: torch.Tensor

    @property
    def scores(self) -> torch.Tensor:
        return torch.sigmoid(self.cls_logits) * torch.sigmoid(self.ctr_logits)


class SiamFCpp(nn.Module):
    """Backbone + four adjustment convolutions + depth-wise correlation + densebox head.

    Inputs are float32 BGR crops in 0..255 (no normalisation), exemplar 127 px, search X px. Build the published
    models with `siamfcpp_alexnet()` / `siamfcpp_googlenet()`; load weights with
    `videoanalyst.models.siamfcpp.checkpoint.load_checkpoint`.

    Args:
        backbone: maps (N, 3, H, W) to (N, width, h, w) at `backbone.total_stride`.
        head: the densebox head.
        width: channels of the backbone output and of the head.
    """

    def __init__(self, backbone: nn.Module, head: DenseboxHead, width: int = 256) -> None:
        super().__init__()
        self.backbone = backbone
        self.template_cls = ConvBlock(width, width, 3, relu=False)
        self.template_reg = ConvBlock(width, width, 3, relu=False)
        self.search_cls = ConvBlock(width, width, 3, relu=False)
        self.search_reg = ConvBlock(width, width, 3, relu=False)
        self.head = head
        for block in (self.template_cls, self.template_reg, self.search_cls, self.search_reg):
            nn.init.normal_(block.conv.weight, std=0.01)  # video_analyst's SiamTrack: conv_weight_std 0.01

    @property
    def total_stride(self) -> int:
        return self.head.total_stride

    def score_size(self, search_size: int) -> int:
        """Score-map side S for search crops of `search_size` px: `(X - 127) // stride + 1 - 2 * num_convs`
        (video_analyst's SiamFCppTracker.update_params; 17 for AlexNet at 303, 19 for GoogLeNet)."""
        return (search_size - EXEMPLAR_SIZE) // self.total_stride + 1 - 2 * self.head.num_convs

    def template(self, exemplars: torch.Tensor) -> TemplateKernels:
        """(K, 3, 127, 127) exemplar crops -> the K targets' correlation kernels."""
        features = self.backbone(exemplars)
        return TemplateKernels(self.template_cls(features), self.template_reg(features))

    def search(self, crops: torch.Tensor, kernels: TemplateKernels) -> SearchOutput:
        """(K, 3, X, X) search crops, one per target, against the targets' kernels -> scores and boxes."""
        features = self.backbone(crops)
        cls_corr = depthwise_correlation(self.search_cls(features), kernels.cls)
        reg_corr = depthwise_correlation(self.search_reg(features), kernels.reg)
        cls_logits, ctr_logits, offsets = self.head(cls_corr, reg_corr)
        size = cls_logits.shape[-1]
        points = score_map_points(crops.shape[-1], size, self.total_stride).to(offsets)
        offsets = offsets.flatten(2).transpose(1, 2)
        boxes = torch.cat([points - offsets[..., :2], points + offsets[..., 2:]], dim=-1)
        return SearchOutput(cls_logits.flatten(1), ctr_logits.flatten(1), boxes)

    def forward(self, exemplars: torch.Tensor, crops: torch.Tensor) -> SearchOutput:
        """Training: exemplar and search crops of the same K pairs."""
        return self.search(crops, self.template(exemplars))


def depthwise_correlation(features: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Correlate each of K feature maps (K, C, H, W) with its own kernels (K, C, k, k), channel by channel:
    one grouped convolution for all K targets -> (K, C, H-k+1, W-k+1)."""
    count, channels = kernels.shape[:2]
    stacked = features.reshape(1, count * channels, *features.shape[2:])
    out = F.conv2d(stacked, kernels.reshape(-1, 1, *kernels.shape[2:]), groups=count * channels)
    return out.reshape(count, channels, *out.shape[2:])


@lru_cache(maxsize=16)
def score_map_points(search_size: int, score_size: int, total_stride: int = 8) -> torch.Tensor:
    """(S*S, 2) float32 x, y search-crop coordinates of the score cells, row-major: `offset + index * stride`, with
    `offset = (X - 1 - (S - 1) * stride) // 2` (87 for AlexNet at 303), as video_analyst's `get_xy_ctr_np`.
    Cached: treat the result as read-only."""
    offset = (search_size - 1 - (score_size - 1) * total_stride) // 2
    cells = torch.arange(score_size, dtype=torch.float32) * total_stride + offset
    ys, xs = torch.meshgrid(cells, cells, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


def siamfcpp_alexnet(*, num_convs: int = 3, tower_batch_norm: Sequence[bool] = (False, False, True)) -> SiamFCpp:
    """The published AlexNet SiamFC++ (9.66 M parameters; score map 17x17 at 303 px)."""
    return SiamFCpp(AlexNetBN(), DenseboxHead(num_convs, tuple(tower_batch_norm)))


def siamfcpp_googlenet(
    *, num_convs: int = 2, tower_batch_norm: Sequence[bool] = (False, False), crop_pad: int = 4
) -> SiamFCpp:
    """The published GoogLeNet (Inception-v3) SiamFC++ (13.9 M parameters; score map 19x19 at 303 px)."""
    return SiamFCpp(GoogLeNetTruncated(crop_pad), DenseboxHead(num_convs, tuple(tower_batch_norm)))
