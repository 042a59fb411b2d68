"""Faster R-CNN building and loading: torchvision's architecture, local weights only, hash and wrong-model errors."""

from __future__ import annotations

import argparse

import pytest
import torch
from torchvision.models.detection import FasterRCNN_ResNet50_FPN_Weights, fasterrcnn_resnet50_fpn
from torchvision.ops.misc import FrozenBatchNorm2d

from videoanalyst.errors import ConfigError, InputError
from videoanalyst.models import faster_rcnn
from videoanalyst.models.faster_rcnn import COCO_CATEGORIES, COCO_WEIGHTS, build_faster_rcnn, coco_class_ids
from videoanalyst.models.weights import WeightsFile, file_sha256, sha256_prefix_in_name

SIZE = {"min_size": 96, "max_size": 128}  # small frames keep a CPU forward well under a second


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_faster_rcnn(None, **SIZE)


@pytest.fixture(scope="module")
def image():
    return torch.rand(3, 90, 120, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def expected(model, image):
    """What the random model predicts for the image."""
    return detect(model, image)


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory):
    """The model's state dict saved once (160 MB): tests link it where they need it rather than write it again."""
    path = tmp_path_factory.mktemp("saved") / "plain.pth"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """An empty weights cache and torch.hub folder: (cache, hub checkpoints)."""
    monkeypatch.setenv("VIDEOANALYST_WEIGHTS", str(tmp_path / "cache"))
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    return tmp_path / "cache", tmp_path / "hub" / "checkpoints"


def detect(network, image):
    """The network's output for one image, from 100 region proposals instead of 1000 (a tenth of the box-head
    work: the test only needs both sides to compute the same thing)."""
    network.rpn._pre_nms_top_n["testing"] = network.rpn._post_nms_top_n["testing"] = 100
    with torch.inference_mode():
        return network([image])[0]


def assert_same_outputs(a, b):
    assert len(a["boxes"]) > 0  # random weights give boxes, so the comparison means something
    for key in ("boxes", "scores", "labels"):
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_random_model_is_torchvisions_coco_architecture(model, image, expected, monkeypatch):
    """torchvision's own builder, given our weights as if they were its COCO file, predicts exactly what ours does."""
    assert not model.training
    norms = [m for m in model.modules() if isinstance(m, FrozenBatchNorm2d)]
    assert norms and all(m.eps == 0.0 for m in norms)
    monkeypatch.setattr(FasterRCNN_ResNet50_FPN_Weights, "get_state_dict", lambda self, **_: model.state_dict())
    theirs = fasterrcnn_resnet50_fpn(weights=FasterRCNN_ResNet50_FPN_Weights.COCO_V1, **SIZE).eval()
    assert list(theirs.state_dict()) == list(model.state_dict())
    assert_same_outputs(detect(theirs, image), expected)


def test_saved_state_dict_loads_back(model, saved, image, expected, tmp_path):
    wrapped = tmp_path / "wrapped.pth"
    # as torchvision's detection training script saves it: argparse options beside the model
    torch.save({"model": model.state_dict(), "optimizer": {}, "args": argparse.Namespace(lr=0.02), "epoch": 3},
               wrapped)
    for path in (saved, wrapped):
        assert_same_outputs(detect(build_faster_rcnn(path, **SIZE), image), expected)


def test_coco_file_is_found_in_the_cache_or_torch_hub_and_its_hash_checked(saved, image, expected, folders,
                                                                            monkeypatch):
    cache, hub = folders
    prefix = file_sha256(saved)[:8]
    spec = WeightsFile(file=f"fasterrcnn_test-{prefix}.pth", url=COCO_WEIGHTS.url, folder="faster_rcnn")
    monkeypatch.setattr(faster_rcnn, "COCO_WEIGHTS", spec)
    hub.mkdir(parents=True)
    (hub / spec.file).symlink_to(saved)
    assert faster_rcnn.coco_weights_path() == hub / spec.file
    (cache / "faster_rcnn").mkdir(parents=True)
    (cache / "faster_rcnn" / spec.file).symlink_to(saved)
    assert faster_rcnn.coco_weights_path() == cache / "faster_rcnn" / spec.file  # our cache comes first
    assert_same_outputs(detect(build_faster_rcnn("coco", **SIZE), image), expected)
    (cache / "faster_rcnn" / spec.file).unlink()
    (cache / "faster_rcnn" / spec.file).write_bytes(b"a truncated download")
    with pytest.raises(InputError, match=f"does not start with the {prefix} its name carries"):
        build_faster_rcnn("coco", **SIZE)


def test_absent_coco_file_names_the_url_and_the_folder(folders):
    cache, hub = folders
    with pytest.raises(InputError) as error:
        build_faster_rcnn("coco")
    message = str(error.value)
    assert "https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth" in message
    assert str(cache / "faster_rcnn" / "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth") in message
    assert str(hub) in message and "nothing is downloaded" in message


def test_torch_hub_hash_prefix_is_read_from_the_name():
    assert sha256_prefix_in_name(COCO_WEIGHTS.file) == "258fb6c6"
    assert sha256_prefix_in_name("my_weights.pth") is None
    assert sha256_prefix_in_name("siamfcpp-alexnet-md5_88e4e9ee476545b952b04ae80c480f08.pkl") is None


def test_checkpoint_of_another_model_is_refused_with_what_differs(model, tmp_path):
    state = {"roi_heads.box_predictor.cls_score.weight": torch.zeros(2, 1024), "classifier.weight": torch.zeros(3)}
    path = tmp_path / "other.pth"
    torch.save(state, path)
    with pytest.raises(InputError, match="not a checkpoint of Faster R-CNN ResNet-50 FPN") as error:
        build_faster_rcnn(path, **SIZE)
    message = str(error.value)
    assert f"missing ({len(model.state_dict()) - 1}): backbone.body, backbone.fpn, rpn.head" in message
    assert "unexpected (1): classifier.weight" in message
    assert "roi_heads.box_predictor.cls_score.weight (2, 1024) != (91, 1024)" in message
    with pytest.raises(InputError, match="no such weights file"):
        build_faster_rcnn(tmp_path / "absent.pth")
    with pytest.raises(ConfigError, match="91 classes, not 2"):
        build_faster_rcnn("coco", num_classes=2)


def test_class_names_and_ids_map_to_coco_ids():
    assert len(COCO_CATEGORIES) == 91 and COCO_CATEGORIES[1] == "person" and COCO_CATEGORIES[3] == "car"
    assert coco_class_ids(["person", "car"]) == [1, 3]
    assert coco_class_ids([3, "Person", "car"]) == [3, 1]  # order kept, repeats dropped, names case-blind
    with pytest.raises(ConfigError, match="unknown COCO class 'persn' \\(did you mean 'person'"):
        coco_class_ids(["persn"])
    for unused in (0, 12, 91, "N/A", "__background__"):
        with pytest.raises(ConfigError):
            coco_class_ids([unused])
