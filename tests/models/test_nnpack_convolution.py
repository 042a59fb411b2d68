"""`use_nnpack`: which convolutions NNPACK takes over, and that they compute what `nn.Conv2d` computes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from videoanalyst.models.fold_batch_norm import fold_batch_norms
from videoanalyst.models.nnpack_convolution import NNPACKConv2d, nnpack_ready, use_nnpack
from videoanalyst.models.siamfcpp import siamfcpp_alexnet, siamfcpp_googlenet
from videoanalyst.models.siamfcpp.random_weights import randomize_

needs_nnpack = pytest.mark.skipif(not nnpack_ready(), reason="this torch build has no NNPACK")


def _conv(*args, **kwargs) -> nn.Conv2d:
    torch.manual_seed(0)
    return nn.Conv2d(*args, **kwargs).eval()


@needs_nnpack
def test_only_large_dense_stride_one_kernels_are_swapped():
    network = nn.Sequential(
        _conv(8, 16, 5),
        _conv(16, 16, 3),
        _conv(16, 16, 5, stride=2),
        _conv(16, 16, 5, groups=2),
        _conv(16, 16, 5, dilation=2),
        _conv(16, 16, 7, padding=3, bias=False),
        _conv(16, 16, (5, 3)),
    )
    use_nnpack(network)
    assert [type(layer) is NNPACKConv2d for layer in network] == [True, False, False, False, False, True, False]


@needs_nnpack
@torch.no_grad()
@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_a_swapped_convolution_computes_the_same_map_in_the_same_layout(memory_format):
    conv = _conv(24, 32, 5, padding=2)
    expected = conv(torch.randn(3, 24, 29, 31, generator=torch.Generator().manual_seed(1)))
    swapped = use_nnpack(nn.Sequential(conv))[0]
    assert isinstance(swapped, NNPACKConv2d)
    x = torch.randn(3, 24, 29, 31, generator=torch.Generator().manual_seed(1)).contiguous(memory_format=memory_format)
    got = swapped(x)
    assert got.is_contiguous(memory_format=memory_format)
    # FFT arithmetic: float32 rounding of a different order, not the same bits.
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs", [{"groups": 2}, {"dilation": 2}, {"padding_mode": "reflect", "padding": 2}])
def test_what_nnpack_cannot_compute_is_refused(kwargs):
    with pytest.raises(ValueError, match="NNPACK convolves without groups or dilation, with zero padding"):
        NNPACKConv2d(8, 8, 5, **kwargs)


@needs_nnpack
@torch.no_grad()
def test_a_batch_gives_each_sample_the_bits_it_gets_alone():
    """What lets K targets tracked in one forward equal K single trackers bit for bit."""
    swapped = use_nnpack(nn.Sequential(_conv(16, 32, 5)))[0]
    batch = torch.randn(4, 16, 40, 40, generator=torch.Generator().manual_seed(2))
    alone = torch.cat([swapped(sample[None]) for sample in batch])
    assert torch.equal(swapped(batch), alone)


@needs_nnpack
@torch.no_grad()
def test_other_dtypes_take_the_usual_path_bit_for_bit():
    conv = _conv(8, 8, 5).double()
    swapped = use_nnpack(nn.Sequential(conv))[0]
    x = torch.randn(1, 8, 20, 20, dtype=torch.float64)
    assert torch.equal(swapped(x), nn.functional.conv2d(x, conv.weight, conv.bias))


@torch.no_grad()
def test_without_nnpack_nothing_is_swapped_and_a_swapped_layer_takes_the_usual_path(monkeypatch):
    conv = _conv(8, 8, 5)
    swapped = NNPACKConv2d(8, 8, 5)
    swapped.load_state_dict(conv.state_dict())
    monkeypatch.setattr(torch.backends.nnpack, "is_available", lambda: False)
    network = use_nnpack(nn.Sequential(conv))
    assert type(network[0]) is nn.Conv2d
    x = torch.randn(1, 8, 20, 20)
    assert torch.equal(swapped(x), conv(x))


@needs_nnpack
@torch.no_grad()
@pytest.mark.parametrize(("build", "swapped"), [(siamfcpp_alexnet, 1), (siamfcpp_googlenet, 3)])
def test_the_fast_siamfcpp_networks_score_like_the_plain_ones(build, swapped):
    """AlexNet's conv2 and GoogLeNet's three 5x5 Inception branches go to NNPACK."""
    network = randomize_(build(), seed=1, calibration_pairs=2).eval()
    fast = use_nnpack(fold_batch_norms(network).to(memory_format=torch.channels_last))
    assert sum(isinstance(m, NNPACKConv2d) for m in fast.modules()) == swapped
    generator = torch.Generator().manual_seed(3)
    exemplars = torch.rand(2, 3, 127, 127, generator=generator) * 255
    crops = torch.rand(2, 3, 303, 303, generator=generator) * 255
    expected = network.search(crops, network.template(exemplars))
    channels_last = torch.channels_last
    got = fast.search(
        crops.contiguous(memory_format=channels_last),
        fast.template(exemplars.contiguous(memory_format=channels_last)),
    )
    torch.testing.assert_close(got.scores, expected.scores, rtol=0, atol=2e-4)
    # Random weights make some offsets huge (exp of a large logit), which turns the rounding of the logits into a
    # relative difference of the boxes: measured 4.4e-4 at most.
    torch.testing.assert_close(got.boxes, expected.boxes, rtol=1e-3, atol=1e-3)
