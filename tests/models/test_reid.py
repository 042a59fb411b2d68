"""`ReidNet`: embedding shapes and norms, crop coordinates, batching across frames, weights files."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch.nn import functional as F

from videoanalyst.errors import InputError
from videoanalyst.models.reid import ReidNet, build_reid, crop_boxes, load_imagenet_trunk

CROP = (64, 32)


@pytest.fixture(scope="module")
def image():
    return torch.randint(0, 256, (3, 150, 100), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def _slice_resized(image, x1, y1, w, h, size):
    return F.interpolate(image[None, :, y1 : y1 + h, x1 : x1 + w].float(), size=size, mode="bilinear",
                         align_corners=False)[0]


@pytest.mark.parametrize("dim", [128, 256])
def test_embed_gives_unit_rows_and_an_empty_matrix_for_no_boxes(image, dim):
    torch.manual_seed(0)
    network = build_reid(embedding_dim=dim, backbone="resnet18", crop_size=CROP)
    assert not network.training
    boxes = torch.tensor([[0, 0, 20, 40], [10, 10, 50, 90], [-10, 100, 30, 170]], dtype=torch.float32)
    embeddings = network.embed(image, boxes)
    assert embeddings.shape == (3, dim) and embeddings.dtype == torch.float32
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(3))
    assert network.embed(image, torch.zeros((0, 4))).shape == (0, dim)


@pytest.mark.parametrize("scale", [1, 2])
def test_crop_of_an_integer_box_is_a_resize_of_its_slice(image, scale):
    x1, y1, w, h = 7, 11, CROP[1] * scale, CROP[0] * scale
    crop = crop_boxes(image, torch.tensor([[x1, y1, x1 + w, y1 + h]], dtype=torch.float32), CROP)[0]
    torch.testing.assert_close(crop, _slice_resized(image, x1, y1, w, h, CROP), atol=1e-3, rtol=0)
    # Half a pixel off is far off: the check above does pin the coordinates.
    shifted = crop_boxes(image, torch.tensor([[x1 + 0.5, y1, x1 + w + 0.5, y1 + h]]), CROP)[0]
    assert (shifted - _slice_resized(image, x1, y1, w, h, CROP)).abs().mean() > 10


def test_upscaled_crop_matches_the_resize_inside_its_border(image):
    # Upscaling, the outermost output pixels interpolate with the pixels beyond the box; the rest is the resize.
    x1, y1, w, h = 3, 4, 16, 32
    crop = crop_boxes(image, torch.tensor([[x1, y1, x1 + w, y1 + h]], dtype=torch.float32), CROP)[0]
    expected = _slice_resized(image, x1, y1, w, h, CROP)
    torch.testing.assert_close(crop[:, 1:-1, 1:-1], expected[:, 1:-1, 1:-1], atol=1e-3, rtol=0)


def test_frames_batched_together_embed_as_each_frame_alone(image):
    torch.manual_seed(1)
    network = build_reid(backbone="resnet18", crop_size=CROP)
    images = [image, image.flip(2), image.flip(1)]
    boxes = [torch.tensor([[0, 0, 30, 60], [5, 5, 90, 140], [40, 20, 80, 60.5]]), torch.zeros((0, 4)),
             torch.tensor([[1, 2, 30, 40], [50, 60, 99, 149]])]
    batched = network.embed_frames(images, boxes, max_batch=2)  # chunks straddle frames
    assert [len(e) for e in batched] == [3, 0, 2]
    for single, together in zip([network.embed(i, b) for i, b in zip(images, boxes)], batched):
        torch.testing.assert_close(together, single, atol=1e-5, rtol=0)


def test_state_dict_round_trip(tmp_path, image):
    torch.manual_seed(2)
    network = ReidNet(embedding_dim=256, backbone="resnet18", crop_size=CROP).eval()
    torch.save(network.state_dict(), tmp_path / "reid.pt")
    loaded = build_reid(tmp_path / "reid.pt", embedding_dim=256, backbone="resnet18", crop_size=CROP)
    for key, value in network.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    boxes = torch.tensor([[10, 10, 50, 90.0]])
    assert torch.equal(loaded.embed(image, boxes), network.embed(image, boxes))


def test_checkpoint_of_another_model_is_refused_with_what_differs(tmp_path):
    torch.save(ReidNet(backbone="resnet18").state_dict(), tmp_path / "r18.pt")
    with pytest.raises(InputError) as error:
        build_reid(tmp_path / "r18.pt", embedding_dim=256, backbone="resnet18")
    assert "not a checkpoint of ReidNet (resnet18, 256-d)" in str(error.value)
    assert "shape differs (2): embedding.weight (128, 512) != (256, 512)" in str(error.value)
    with pytest.raises(InputError, match=r"missing \(\d+\): trunk\.layer1, .*shape differs"):
        build_reid(tmp_path / "r18.pt")
    with pytest.raises(InputError, match="no such weights file"):
        build_reid(tmp_path / "absent.pt")


def test_imagenet_trunk_is_looked_up_in_the_hub_cache_checked_and_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    network = ReidNet(backbone="resnet18")
    with pytest.raises(InputError) as error:
        load_imagenet_trunk(network)
    message = str(error.value)
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in message
    torch.manual_seed(3)
    imagenet = torchvision.models.resnet18(weights=None)
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    torch.save(imagenet.state_dict(), cached)  # not torchvision's file: its sha256 does not match the name's
    with pytest.raises(InputError, match="does not start with the f37072fd its name carries"):
        load_imagenet_trunk(network)
    renamed = cached.rename(tmp_path / "resnet18-imagenet.pth")
    assert load_imagenet_trunk(network, renamed) == renamed
    assert torch.equal(network.trunk.layer4[1].conv2.weight, imagenet.layer4[1].conv2.weight)
    assert torch.equal(network.trunk.bn1.running_var, imagenet.bn1.running_var)
    with pytest.raises(InputError, match="not a checkpoint of torchvision's ImageNet resnet50"):
        load_imagenet_trunk(ReidNet(), renamed)
