"""Convolution, optional batch norm, optional ReLU: the building block of SiamFC++'s backbone, neck and head."""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Module):
    """`conv` -> `bn` -> `relu`, each part optional but the first; attribute names follow video_analyst's
    `conv_bn_relu` (model/common_opr/common_block.py), so its checkpoints map onto ours key for key.

    Args:
        in_channels, out_channels, kernel_size, stride, padding: as for `nn.Conv2d` (always with a bias).
        batch_norm: follow the convolution with `nn.BatchNorm2d`.
        relu: end with a ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        batch_norm: bool = True,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding)
        self.bn = nn.BatchNorm2d(out_channels) if batch_norm else None
        self.relu = nn.ReLU(inplace=True) if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.relu is not None:
            x = self.relu(x)
        return x
