"""Given boxes regressed through a torchvision Faster R-CNN's second stage: Tracktor's way of following an object.

The boxes take the place of the region proposals: RoI-pooled from the backbone features, passed through the box
head and predictor, decoded with the class's deltas (phil-bergmann/tracking_wo_bnw 446abc7, src/tracktor/
frcnn_fpn.py `load_image` and `predict_boxes`). `frame_features` runs the backbone once so that several sets of
boxes of one frame (tracks, public detections to refine) share it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.transform import resize_boxes
from torchvision.ops import clip_boxes_to_image


@dataclass(frozen=True)
class FrameFeatures:
    """One frame after the model's transform and backbone.

    Args:
        features: the backbone's (FPN's) feature maps by level name, batch of one.
        original_size: (H, W) of the frame as given.
        resized_size: (H, W) of the frame after the transform's resize, before padding.
    """

    features: OrderedDict[str, torch.Tensor]
    original_size: tuple[int, int]
    resized_size: tuple[int, int]


@torch.inference_mode()
def frame_features(model: FasterRCNN, image: torch.Tensor) -> FrameFeatures:
    """Resize, normalise and run the backbone on a (3, H, W) uint8 RGB image (moved to the model's device)."""
    device = next(model.parameters()).device
    image = image.to(device).float().div_(255)
    batch, _ = model.transform([image])
    features = model.backbone(batch.tensors)
    if isinstance(features, torch.Tensor):
        features = OrderedDict([("0", features)])
    original_size = (int(image.shape[-2]), int(image.shape[-1]))
    resized_size = (int(batch.image_sizes[0][0]), int(batch.image_sizes[0][1]))
    return FrameFeatures(features, original_size, resized_size)


@torch.inference_mode()
def regress_boxes(model: FasterRCNN, image: torch.Tensor | FrameFeatures, boxes: torch.Tensor,
                  class_id: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Each box moved by the box head's regression for `class_id`, and that class's softmax score.

    Args:
        model: a torchvision `FasterRCNN`, in eval mode.
        image: the (3, H, W) uint8 RGB frame, or its `frame_features` when the frame's features are reused.
        boxes: (N, 4) x1, y1, x2, y2 in frame pixels.
        class_id: the class whose deltas and score are taken (1 = person in COCO and in MOT-trained models).

    Returns:
        boxes (N, 4) float32 in frame pixels, clipped to the frame, and scores (N,) float32, on the model's device.
    """
    frame = image if isinstance(image, FrameFeatures) else frame_features(model, image)
    device = next(model.parameters()).device
    boxes = boxes.to(device, torch.float32).reshape(-1, 4)
    if len(boxes) == 0:
        return boxes.clone(), boxes.new_zeros(0)
    proposals = resize_boxes(boxes, list(frame.original_size), list(frame.resized_size))
    heads = model.roi_heads
    pooled = heads.box_roi_pool(frame.features, [proposals], [frame.resized_size])
    class_logits, deltas = heads.box_predictor(heads.box_head(pooled))
    regressed = heads.box_coder.decode(deltas, [proposals])[:, class_id]
    regressed = resize_boxes(regressed, list(frame.resized_size), list(frame.original_size))
    scores = F.softmax(class_logits, dim=-1)[:, class_id]
    return clip_boxes_to_image(regressed, frame.original_size), scores
