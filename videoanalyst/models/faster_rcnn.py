"""Faster R-CNN, ResNet-50 FPN, as torchvision builds it for its COCO weights, loaded from local files only.

torchvision's own builder downloads on demand; our machines have no network, so the COCO file is looked up in the
weights cache and in torch.hub's checkpoints folder, its sha256 prefix checked as torch.hub checks a download, and
its absence reported with the URL and the folder to put it in.
"""

from __future__ import annotations

import argparse
import difflib
import functools
from collections.abc import Sequence
from pathlib import Path

import torch
from torchvision.models.detection import FasterRCNN, FasterRCNN_ResNet50_FPN_Weights
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.ops.misc import FrozenBatchNorm2d

from videoanalyst.errors import ConfigError, InputError
from videoanalyst.models.siamfcpp.checkpoint import load_checkpoint
from videoanalyst.models.weights import (
    WeightsFile,
    sha256_prefix_in_name,
    user_weights,
    verify_sha256_prefix,
)

_COCO_V1 = FasterRCNN_ResNet50_FPN_Weights.COCO_V1
#: torchvision's COCO train2017 weights (box AP 37.0 on val2017), looked up under `<weights cache>/faster_rcnn`.
COCO_WEIGHTS = WeightsFile(file=_COCO_V1.url.rsplit("/", 1)[1], url=_COCO_V1.url, folder="faster_rcnn")
#: Class names by the ids the COCO model predicts: 0 is the background, "N/A" marks ids COCO leaves unused.
COCO_CATEGORIES: tuple[str, ...] = tuple(_COCO_V1.meta["categories"])
_UNUSED = ("__background__", "N/A")


def build_faster_rcnn(
    weights: str | Path | None = "coco", *, num_classes: int = 91, min_size: int = 800, max_size: int = 1333
) -> FasterRCNN:
    """Faster R-CNN ResNet-50 FPN in eval mode.

    The architecture is the one torchvision's `fasterrcnn_resnet50_fpn` builds for trained weights: frozen batch
    norms with eps 0 (torchvision sets eps 0 for the COCO file; its weights-free build uses trainable batch norms
    instead, whose state dict does not match the file).

    Args:
        weights: "coco" for torchvision's COCO file (found locally, never downloaded); a path to a state dict (plain,
            or wrapped as torchvision's training scripts save it, ``{"model": ...}``); None for random weights.
        num_classes: classes including the background (91 for COCO).
        min_size, max_size: the shorter image side is resized to `min_size` unless the longer would exceed
            `max_size`; smaller is faster and misses small objects.

    Raises:
        InputError: the COCO file is absent (naming its URL and folder) or damaged, or the file holds another model.
    """
    if weights == "coco" and num_classes != len(COCO_CATEGORIES):
        raise ConfigError(f"faster_rcnn: the COCO weights have {len(COCO_CATEGORIES)} classes, not {num_classes}")
    frozen_norm = functools.partial(FrozenBatchNorm2d, eps=0.0)
    backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None, norm_layer=frozen_norm, trainable_layers=3)
    model = FasterRCNN(backbone, num_classes=num_classes, min_size=min_size, max_size=max_size)
    if weights is not None:
        path = coco_weights_path() if weights == "coco" else _user_file(weights)
        # torchvision's training scripts store their argparse options beside the model: allow that one class
        with torch.serialization.safe_globals([argparse.Namespace]):
            load_checkpoint(model, path, "Faster R-CNN ResNet-50 FPN")
    return model.eval()


def coco_weights_path() -> Path:
    """The COCO file, sha256-prefix checked, from the weights cache or torch.hub's checkpoints folder.

    Raises:
        InputError: naming the URL and the folder to put the file in when it is in neither place.
    """
    hub_path = Path(torch.hub.get_dir()) / "checkpoints" / COCO_WEIGHTS.file
    for path in (COCO_WEIGHTS.cached_path, hub_path):
        if path.is_file():
            verify_sha256_prefix(path, sha256_prefix_in_name(path.name))
            return path
    raise InputError(f"Faster R-CNN COCO {COCO_WEIGHTS.absent_message()}; {hub_path.parent} was searched too; "
                     "nothing is downloaded")


def _user_file(weights: str | Path) -> Path:
    path = user_weights(weights)
    if path.name == COCO_WEIGHTS.file:
        verify_sha256_prefix(path, sha256_prefix_in_name(path.name))
    return path


def coco_class_ids(classes: Sequence[str | int]) -> list[int]:
    """The COCO ids (as the model numbers them, person = 1) of class names or ids, in order, without repeats.

    Raises:
        ConfigError: for an unknown name or an id the COCO model never predicts, listing close names.
    """
    ids: list[int] = []
    for item in classes:
        if isinstance(item, str):
            name = item.strip().lower()
            if name not in COCO_CATEGORIES or name in _UNUSED:
                close = difflib.get_close_matches(name, [c for c in COCO_CATEGORIES if c not in _UNUSED], n=3)
                hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
                raise ConfigError(f"faster_rcnn: unknown COCO class {item!r}{hint}; the names are those of "
                                  "videoanalyst.models.faster_rcnn.COCO_CATEGORIES, e.g. 'person', 'car'")
            class_id = COCO_CATEGORIES.index(name)
        else:
            class_id = int(item)
            if not 0 < class_id < len(COCO_CATEGORIES) or COCO_CATEGORIES[class_id] in _UNUSED:
                raise ConfigError(f"faster_rcnn: {item!r} is not a COCO class id the model predicts; expected one of "
                                  f"1..{len(COCO_CATEGORIES) - 1} whose name is not 'N/A'")
        if class_id not in ids:
            ids.append(class_id)
    return ids
