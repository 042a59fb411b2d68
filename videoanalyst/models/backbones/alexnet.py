"""SiamFC++'s AlexNet: five convolutions with batch norm and no padding, 256 channels at stride 8."""

from __future__ import annotations

import torch
from torch import nn

from videoanalyst.models.backbones.conv_block import ConvBlock


class AlexNetBN(nn.Module):
    """The AlexNet variant of SiamFC (Bertinetto et al. 2016) as video_analyst builds it
    (model/backbone/backbone_impl/alexnet_bn.py): 127 px -> 6x6, 303 px -> 28x28 features, total stride 8.

    Input: (N, 3, H, W) float32 BGR in 0..255, no normalisation (how the official weights were trained).
    Output: (N, 256, H', W'); conv5 has batch norm but no ReLU.
    """

    out_channels = 256
    total_stride = 8

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvBlock(3, 96, 11, stride=2)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = ConvBlock(96, 256, 5)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = ConvBlock(256, 384, 3)
        self.conv4 = ConvBlock(384, 384, 3)
        self.conv5 = ConvBlock(384, 256, 3, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.conv1(x))
        x = self.pool2(self.conv2(x))
        return self.conv5(self.conv4(self.conv3(x)))
