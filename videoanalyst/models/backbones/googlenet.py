"""SiamFC++'s GoogLeNet: torchvision's Inception-v3 up to Mixed_6e, a border crop and a 1x1 reduction to 256."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torchvision.models.inception import BasicConv2d, InceptionA, InceptionB, InceptionC


class GoogLeNetTruncated(nn.Module):
    """Inception-v3 truncated after Mixed_6e (stride 8 with the 3x3 max pool removed after Conv2d_4a), as
    video_analyst builds it (model/backbone/backbone_impl/googlenet.py). The blocks are torchvision's, so their
    parameter names are torchvision's and the official checkpoints load as they are.

    Input: (N, 3, H, W) float32 BGR in 0..255 (the official convention); the network itself converts to RGB
    in -1..1, which is what Inception-v3 was pre-trained on.
    Output: (N, 256, H', W'): 127 px -> 5x5, 303 px -> 27x27, after cropping `crop_pad` cells from each border.

    Args:
        crop_pad: feature cells cropped from each border before the reduction (the official value is 4).
    """

    out_channels = 256
    total_stride = 8

    def __init__(self, crop_pad: int = 4) -> None:
        super().__init__()
        self.crop_pad = crop_pad
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.channel_reduce = nn.Sequential(nn.Conv2d(768, 256, 1), nn.BatchNorm2d(256, eps=0.001))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x.flip(1) - 127.5) / 127.5
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d):
            x = block(x)
        for block in (self.Mixed_6a, self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
            x = block(x)
        pad = self.crop_pad
        x = x[:, :, pad : x.shape[2] - pad, pad : x.shape[3] - pad]
        return self.channel_reduce(x)
