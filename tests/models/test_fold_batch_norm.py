"""`fold_batch_norms`: the folded network computes what the original computes, with no batch norm left."""

from __future__ import annotations

import torch
from torch import nn

from videoanalyst.models.fold_batch_norm import fold_batch_norms
from videoanalyst.models.siamfcpp import siamfcpp_alexnet, siamfcpp_googlenet
from videoanalyst.models.siamfcpp.random_weights import randomize_


def _batch_norms(network: nn.Module) -> int:
    return sum(isinstance(m, nn.BatchNorm2d) for m in network.modules())


@torch.no_grad()
def test_folded_networks_give_the_same_scores_and_boxes():
    for build, search_size in ((siamfcpp_alexnet, 303), (siamfcpp_googlenet, 303)):
        network = randomize_(build(), seed=1, search_size=search_size, calibration_pairs=2).eval()
        folded = fold_batch_norms(network)
        assert _batch_norms(network) > 0 and _batch_norms(folded) == 0
        generator = torch.Generator().manual_seed(2)
        exemplars = torch.rand(2, 3, 127, 127, generator=generator) * 255
        crops = torch.rand(2, 3, search_size, search_size, generator=generator) * 255
        expected = network.search(crops, network.template(exemplars))
        got = folded.search(crops, folded.template(exemplars))
        torch.testing.assert_close(got.scores, expected.scores, rtol=0, atol=2e-4)  # measured: 6e-5
        torch.testing.assert_close(got.boxes, expected.boxes, rtol=1e-4, atol=1e-3)


def test_the_original_network_is_left_as_it_is():
    network = siamfcpp_alexnet().train()
    before = {k: v.clone() for k, v in network.state_dict().items()}
    fold_batch_norms(network)
    assert network.training and _batch_norms(network) > 0
    assert all(torch.equal(v, before[k]) for k, v in network.state_dict().items())
