"""Large-kernel convolutions on CPU through NNPACK, the convolution library bundled with PyTorch's CPU builds.

For a 5x5 kernel NNPACK convolves by FFT over 16x16 tiles, with far fewer multiplications than the direct
product oneDNN computes: SiamFC++ AlexNet's conv2 (96 -> 256 channels, 5x5 on 73x73) takes 16 ms instead of 27 ms
on two AMD EPYC cores, layout changes included. For 3x3 kernels and strided ones oneDNN is faster, so they stay
with it (measured layer by layer; see `evaluation/README.md`).
"""

from __future__ import annotations

import torch
from torch import nn

#: Smallest kernel side handed to NNPACK: from 5x5 on the FFT pays (AlexNet's conv2) or breaks even (GoogLeNet's
#: 5x5 Inception branches); on 3x3 kernels it loses.
MIN_KERNEL_SIDE = 5


class NNPACKConv2d(nn.Conv2d):
    """An `nn.Conv2d` computed by NNPACK for float32 CPU inputs, and by PyTorch's usual path otherwise (GPU,
    other dtypes, a build without NNPACK). The output keeps the input's memory format (NCHW or channels-last).
    Results equal the direct convolution to float32 rounding, not bit for bit; a batch gives each sample the bits
    it gets alone. Made for inference (`SiamFCppTracker`'s folded network); gradients go through PyTorch's
    convolution backward.

    Raises:
        ValueError: for groups, dilation or a padding mode other than zeros, which NNPACK does not compute.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not _nnpack_computes(self):
            raise ValueError(f"NNPACK convolves without groups or dilation, with zero padding; got {self}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.dtype != torch.float32 or not nnpack_ready():
            return super().forward(x)
        out = torch._nnpack_spatial_convolution(
            x.contiguous(), self.weight.contiguous(), self.bias, list(self.padding), list(self.stride)
        )
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            return out.contiguous(memory_format=torch.channels_last)
        return out


def use_nnpack(network: nn.Module) -> nn.Module:
    """Swap, in place, each `nn.Conv2d` of `network` that NNPACK computes faster for an `NNPACKConv2d` holding the
    same parameters: square kernels of side `MIN_KERNEL_SIDE` or more, stride 1, no dilation, no groups, zero
    padding. A build without NNPACK leaves `network` as it is. Returns `network`."""
    if not nnpack_ready():
        return network
    for parent in list(network.modules()):
        for name, child in parent.named_children():
            if type(child) is nn.Conv2d and _suits_nnpack(child):
                parent.add_module(name, _as_nnpack(child))
    return network


def nnpack_ready() -> bool:
    """Whether this torch build has NNPACK and its private convolution entry point. The check also initialises
    NNPACK, which that entry point does not do by itself (without it the first call fails)."""
    return hasattr(torch, "_nnpack_spatial_convolution") and torch.backends.nnpack.is_available()


def _nnpack_computes(conv: nn.Conv2d) -> bool:
    return (
        conv.groups == 1
        and conv.dilation == (1, 1)
        and conv.padding_mode == "zeros"
        and isinstance(conv.padding, tuple)
    )


def _suits_nnpack(conv: nn.Conv2d) -> bool:
    height, width = conv.kernel_size
    return height == width >= MIN_KERNEL_SIDE and conv.stride == (1, 1) and _nnpack_computes(conv)


def _as_nnpack(conv: nn.Conv2d) -> NNPACKConv2d:
    """The same layer, sharing `conv`'s parameters; the weight is kept NCHW, the layout NNPACK reads."""
    swapped = NNPACKConv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, padding=conv.padding, bias=conv.bias is not None,
        device="meta",
    )
    swapped.weight = nn.Parameter(conv.weight.detach().contiguous(), requires_grad=conv.weight.requires_grad)
    swapped.bias = conv.bias
    return swapped
