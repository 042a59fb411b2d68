"""Feature extractors shared by the task models."""

from videoanalyst.models.backbones.alexnet import AlexNetBN
from videoanalyst.models.backbones.conv_block import ConvBlock
from videoanalyst.models.backbones.googlenet import GoogLeNetTruncated

__all__ = ["AlexNetBN", "ConvBlock", "GoogLeNetTruncated"]
