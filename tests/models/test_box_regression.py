import pytest
import torch
from torchvision.models.detection import fasterrcnn_resnet50_fpn

from videoanalyst.models.box_regression import frame_features, regress_boxes


@pytest.fixture(scope="module")
def model():
    """A random Faster R-CNN whose box predictor gives zero deltas and a person logit 10 above the others."""
    torch.manual_seed(0)
    network = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=96, max_size=160).eval()
    predictor = network.roi_heads.box_predictor
    for layer in (predictor.cls_score, predictor.bbox_pred):
        torch.nn.init.zeros_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    predictor.cls_score.bias.data[1] = 10.0
    return network


@pytest.fixture(scope="module")
def image():
    return torch.randint(0, 256, (3, 150, 250), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)


BOXES = torch.tensor([[10.25, 20.5, 60.75, 120.0], [100.0, 3.0, 247.5, 149.0], [0.0, 0.0, 250.0, 150.0]])


def test_zero_deltas_return_the_boxes_through_the_resize_round_trip(model, image):
    # 150x250 is resized to 96x160 and back: a ratio that is not a power of two, so the round trip is tested.
    boxes, scores = regress_boxes(model, image, BOXES)
    assert boxes.dtype == torch.float32 and boxes.shape == (3, 4)
    torch.testing.assert_close(boxes, BOXES, atol=1e-4, rtol=0)
    expected_score = 1 / (1 + 90 * torch.exp(torch.tensor(-10.0)))  # softmax over 91 classes, one logit 10
    torch.testing.assert_close(scores, expected_score.expand(3), atol=1e-6, rtol=0)


def test_deltas_of_the_class_asked_for_are_decoded_in_frame_pixels_and_clipped(model, image):
    bias = model.roi_heads.box_predictor.bbox_pred.bias
    try:
        bias.data[4 * 1: 4 * 2] = torch.tensor([1.0, 0.0, 0.0, 0.0])  # person: dx = 1 / 10 of the width
        person, _ = regress_boxes(model, image, BOXES)
        other, other_scores = regress_boxes(model, image, BOXES, class_id=2)
    finally:
        bias.data.zero_()
    widths = BOXES[:, 2] - BOXES[:, 0]
    shifted = BOXES + torch.stack([widths, 0 * widths, widths, 0 * widths], dim=1) / 10
    shifted[:, 2].clamp_(max=250.0)
    torch.testing.assert_close(person, shifted, atol=1e-4, rtol=0)
    torch.testing.assert_close(other, BOXES, atol=1e-4, rtol=0)
    assert other_scores.max() < 1e-4


def test_shared_frame_features_give_the_same_boxes(model, image):
    features = frame_features(model, image)
    assert features.original_size == (150, 250) and features.resized_size == (96, 160)
    direct = regress_boxes(model, image, BOXES[:2])
    shared = regress_boxes(model, features, BOXES[:2])
    for a, b in zip(direct, shared):
        torch.testing.assert_close(a, b)
    empty_boxes, empty_scores = regress_boxes(model, features, torch.zeros((0, 4)))
    assert empty_boxes.shape == (0, 4) and empty_scores.shape == (0,)
