"""`fold_batch_norms`: the folded network computes what the original computes, with no batch norm left."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from videoanalyst.models.fold_batch_norm import fold_batch_norms
from videoanalyst.models.siamfcpp import siamfcpp_alexnet, siamfcpp_googlenet
from videoanalyst.models.siamfcpp.random_weights import _smooth_images, randomize_


def _batch_norms(network: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in network.modules())


@pytest.mark.slow
@torch.no_grad()
@pytest.mark.parametrize("build", [siamfcpp_alexnet, siamfcpp_googlenet])
def test_folded_networks_give_the_same_scores_and_boxes_to_float32_rounding(build):
    """Folding is exact in real arithmetic; in float32 it rounds the folded weights, and the convolutions round
    otherwise. The bound follows from float32 rounding itself: against a float64 copy of the unfolded network (the
    exact values, to float32's eyes), the folded network's largest error over the scores, and over the box
    coordinates, stays within 4x the unfolded float32 network's own largest error (at least a unit roundoff of
    the largest value): folding costs no more than float32 evaluation does (measured here: 0.8x to 1.2x). A
    mis-folded batch norm is off by its whole scale or shift, orders of magnitude more. Inputs are image-like
    crops (`randomize_`'s calibration images), where the random weights give unsaturated scores and finite boxes."""
    network = randomize_(build(), seed=1, search_size=303, calibration_pairs=2).eval()
    folded = fold_batch_norms(network)
    assert _batch_norms(network) > 0 and _batch_norms(folded) == 0
    generator = torch.Generator().manual_seed(2)
    exemplars, crops = _smooth_images(1, 127, generator), _smooth_images(1, 303, generator)
    exact = copy.deepcopy(network).double()
    expected = exact.search(crops.double(), exact.template(exemplars.double()))
    unfolded = network.search(crops, network.template(exemplars))
    got = folded.search(crops, folded.template(exemplars))
    for key in ("scores", "boxes"):
        values = getattr(expected, key)
        assert torch.isfinite(values).all()
        rounding = max((getattr(unfolded, key) - values).abs().max().item(), 2**-24 * values.abs().max().item())
        error = (getattr(got, key) - values).abs().max().item()
        assert error <= 4 * rounding, f"{key}: folded error {error:.2e}, unfolded float32 error {rounding:.2e}"


def test_the_original_network_is_left_as_it_is():
    network = siamfcpp_alexnet().train()
    before = {k: v.clone() for k, v in network.state_dict().items()}
    fold_batch_norms(network)
    assert network.training and _batch_norms(network) > 0
    assert all(torch.equal(v, before[k]) for k, v in network.state_dict().items())
