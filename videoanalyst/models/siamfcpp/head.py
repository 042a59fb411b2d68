"""SiamFC++'s head: two towers of 3x3 convolutions over the correlation maps, then classification, centerness and
box-offset outputs."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from videoanalyst.models.backbones.conv_block import ConvBlock


class DenseboxHead(nn.Module):
    """The head of video_analyst's `DenseboxHead` (model/task_head/taskhead_impl/track_head.py).

    The classification tower feeds the classification and centerness outputs, the regression tower the box
    offsets; each 1x1 output convolution is followed by a batch norm. Offsets are `exp(scale * x + bias) * stride`
    with a learned scalar scale and bias (`si`, `bi` in the official checkpoints).

    Args:
        num_convs: 3x3 convolutions per tower (3 for AlexNet, 2 for GoogLeNet); each removes 2 score cells.
        tower_batch_norm: per tower convolution, whether it has batch norm ([False, False, True] for AlexNet).
        width: channels of the towers.
        total_stride: stride of the score map in search-crop pixels.
    """

    def __init__(
        self,
        num_convs: int = 3,
        tower_batch_norm: Sequence[bool] = (False, False, True),
        width: int = 256,
        total_stride: int = 8,
    ) -> None:
        super().__init__()
        if len(tower_batch_norm) != num_convs:
            raise ValueError(
                f"tower_batch_norm needs one flag per tower convolution ({num_convs}), got {tower_batch_norm}"
            )
        self.num_convs = num_convs
        self.total_stride = total_stride
        self.cls_tower = nn.Sequential(*(ConvBlock(width, width, 3, batch_norm=bn) for bn in tower_batch_norm))
        self.reg_tower = nn.Sequential(*(ConvBlock(width, width, 3, batch_norm=bn) for bn in tower_batch_norm))
        self.cls_score = ConvBlock(width, 1, 1, relu=False)
        self.ctr_score = ConvBlock(width, 1, 1, relu=False)
        self.box_offsets = ConvBlock(width, 4, 1, relu=False)
        self.offset_scale = nn.Parameter(torch.tensor(1.0))
        self.offset_bias = nn.Parameter(torch.tensor(0.0))
        self._initialise()

    def forward(
        self, cls_corr: torch.Tensor, reg_corr: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Correlation maps (N, C, h, w) -> cls logits (N, S, S), ctr logits (N, S, S), offsets (N, 4, S, S) in
        search-crop pixels (left, top, right, bottom distances from each score cell's centre)."""
        cls_features = self.cls_tower(cls_corr)
        offsets = self.box_offsets(self.reg_tower(reg_corr))
        offsets = torch.exp(self.offset_scale * offsets + self.offset_bias) * self.total_stride
        return self.cls_score(cls_features)[:, 0], self.ctr_score(cls_features)[:, 0], offsets

    def _initialise(self) -> None:
        """video_analyst's initialisation: N(0, 1e-4) weights, the classifier's bias at the prior -log(99) (focal
        loss convention, p = 0.01), other biases uniform in +-1/sqrt(fan_in)."""
        convs = [block.conv for block in (*self.cls_tower, *self.reg_tower, self.ctr_score, self.box_offsets)]
        for conv in convs:
            nn.init.normal_(conv.weight, std=1e-4)
            bound = 1 / math.sqrt(conv.weight[0].numel())
            nn.init.uniform_(conv.bias, -bound, bound)
        nn.init.normal_(self.cls_score.conv.weight, std=1e-4)
        nn.init.constant_(self.cls_score.conv.bias, -math.log(99))
