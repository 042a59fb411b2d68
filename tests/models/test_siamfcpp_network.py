"""SiamFC++ networks: layer layout of the official checkpoints, score-map geometry, batched correlation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from videoanalyst.models.siamfcpp import (
    depthwise_correlation,
    ours_to_official,
    score_map_points,
    siamfcpp_alexnet,
    siamfcpp_googlenet,
)
from videoanalyst.models.siamfcpp.random_weights import randomize_

#: Keys and shapes of video_analyst's official checkpoints (siamfcpp-alexnet-vot-md5_*.pkl and
#: siamfcpp-googlenet-vot-md5_*.pkl, loaded with torch.load and listed one ``key (shape)`` a line), kept with the tests.
REFERENCE = Path(__file__).resolve().parent / "data"


def _official_layout(name: str) -> dict[str, tuple[int, ...]]:
    """Keys and shapes of video_analyst's checkpoints, as listed in data/<name>_keys.txt."""
    layout = {}
    for line in (REFERENCE / f"{name}_keys.txt").read_text().splitlines():
        key, _, shape = line.partition(" ")
        if shape.startswith("(") and key.count(".") and not key.endswith(":"):
            layout[key] = tuple(int(v) for v in shape.strip("()").split(",") if v.strip())
    return layout


@pytest.mark.parametrize(
    ("builder", "name", "params"), [(siamfcpp_alexnet, "alexnet", 9.66e6), (siamfcpp_googlenet, "googlenet", 13.9e6)]
)
def test_state_dict_has_the_official_layout(builder, name, params):
    network = builder()
    ours = {ours_to_official(k): tuple(v.shape) for k, v in network.state_dict().items()}
    assert ours == _official_layout(name)
    assert sum(p.numel() for p in network.parameters()) == pytest.approx(params, rel=0.005)


@pytest.mark.parametrize(
    ("builder", "template_side", "score_side"), [(siamfcpp_alexnet, 4, 17), (siamfcpp_googlenet, 3, 19)]
)
def test_shapes_at_the_official_sizes(builder, template_side, score_side):
    """video_analyst: c_z_k 4x4 / 3x3, score 17x17 / 19x19 at 303 px (data/*_keys.txt)."""
    network = builder().eval()
    with torch.no_grad():
        kernels = network.template(torch.rand(2, 3, 127, 127) * 255)
        out = network.search(torch.rand(2, 3, 303, 303) * 255, kernels)
    assert kernels.cls.shape == (2, 256, template_side, template_side)
    assert network.score_size(303) == score_side
    assert out.scores.shape == (2, score_side**2) and out.boxes.shape == (2, score_side**2, 4)


@pytest.mark.parametrize("search_size", [239, 255, 287])
def test_score_size_formula_matches_the_network(search_size):
    network = siamfcpp_alexnet().eval()
    with torch.no_grad():
        out = network(torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, search_size, search_size) * 255)
    assert out.cls_logits.shape[1] == network.score_size(search_size) ** 2


def test_score_map_points_are_video_analysts_grid():
    """AlexNet at 303: score_offset 87 = (303 - 1 - 16 * 8) // 2, stride 8, row-major (FACTS.md)."""
    points = score_map_points(303, 17, 8)
    assert points[0].tolist() == [87.0, 87.0]
    assert points[1].tolist() == [95.0, 87.0]
    assert points[17].tolist() == [87.0, 95.0]
    assert points[-1].tolist() == [87.0 + 16 * 8] * 2


def test_boxes_decode_offsets_around_each_cell():
    network = randomize_(siamfcpp_alexnet(), seed=1)
    grid = torch.rand(2, 3, 8, 8) * 255
    with torch.no_grad():
        kernels = network.template(F.interpolate(grid[:1], size=127, mode="bilinear"))
        out = network.search(F.interpolate(grid[1:], size=303, mode="bilinear"), kernels)
    points = score_map_points(303, 17)
    assert torch.all(out.boxes[0, :, :2] < points) and torch.all(out.boxes[0, :, 2:] > points)


def test_batched_correlation_equals_one_target_at_a_time():
    features, kernels = torch.randn(5, 8, 12, 12), torch.randn(5, 8, 4, 4)
    batched = depthwise_correlation(features, kernels)
    for k in range(5):
        single = depthwise_correlation(features[k : k + 1], kernels[k : k + 1])
        torch.testing.assert_close(batched[k : k + 1], single)
    channels_last = depthwise_correlation(features.contiguous(memory_format=torch.channels_last), kernels)
    torch.testing.assert_close(channels_last, batched)


def test_video_analyst_initialisation_of_the_head():
    """Classifier bias at the focal-loss prior -log(99); offsets start as exp(0) * 8 (track_head.py)."""
    head = siamfcpp_alexnet().head
    assert head.cls_score.conv.bias.item() == pytest.approx(-4.59512, abs=1e-5)
    assert head.offset_scale.item() == 1.0 and head.offset_bias.item() == 0.0
    assert head.cls_tower[0].conv.weight.std().item() == pytest.approx(1e-4, rel=0.05)


def test_random_weights_are_seeded_and_not_degenerate():
    a = randomize_(siamfcpp_alexnet(), seed=3)
    b = randomize_(siamfcpp_alexnet(), seed=3)
    for (key, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(va, vb, msg=key)
    grid = torch.rand(2, 3, 8, 8) * 255  # image-like inputs: smooth colour fields
    with torch.no_grad():
        out = a(F.interpolate(grid[:1], size=127, mode="bilinear"), F.interpolate(grid[1:], size=303, mode="bilinear"))
    assert out.scores.std() > 0.01
