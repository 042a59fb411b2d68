"""Seeded, non-degenerate random weights for SiamFC++: for equivalence tests and speed benchmarks without a
checkpoint. video_analyst's own initialisation gives a constant score map (FACTS.md), which would hide any
difference in the arithmetic after it."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from videoanalyst.models.siamfcpp.network import EXEMPLAR_SIZE, SiamFCpp


@torch.no_grad()
def randomize_(network: SiamFCpp, seed: int = 0, search_size: int = 303, calibration_pairs: int = 4) -> SiamFCpp:
    """Fill `network` in place: Kaiming-normal convolutions, batch-norm scales in 0.5..1.5 and shifts in
    -0.2..0.2, batch-norm statistics measured on seeded smooth random images (so every layer sees unit-scale
    inputs on image-like crops),
    offset scale and bias away from 1 and 0. The same seed gives the same weights on every machine."""
    generator = torch.Generator().manual_seed(seed)
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.weight[0].numel()
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * math.sqrt(2 / fan_in))
            if module.bias is not None:
                module.bias.copy_((torch.rand(module.bias.shape, generator=generator) - 0.5) * 0.2)
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.copy_(0.5 + torch.rand(module.weight.shape, generator=generator))
            module.bias.copy_((torch.rand(module.bias.shape, generator=generator) - 0.5) * 0.4)
    network.head.offset_scale.fill_(0.1)
    network.head.offset_bias.fill_(1.0)
    exemplars = _smooth_images(calibration_pairs, EXEMPLAR_SIZE, generator)
    crops = _smooth_images(calibration_pairs, search_size, generator)
    norms = [m for m in network.modules() if isinstance(m, nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the calibration pass
    network.train()
    network(exemplars, crops)
    network.eval()
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    return network


def _smooth_images(count: int, side: int, generator: torch.Generator) -> torch.Tensor:
    """Image-like crops: random 8x8 colour grids blown up bilinearly, plus a little pixel noise, 0..255."""
    grid = torch.rand(count, 3, 8, 8, generator=generator) * 255
    images = F.interpolate(grid, size=(side, side), mode="bilinear", align_corners=False)
    return (images + torch.randn(images.shape, generator=generator) * 8).clamp(0, 255)
