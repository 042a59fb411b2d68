"""`ReidNet`: a person / object re-identification embedding, a torchvision ResNet trunk to layer4, global average
pooling and a linear map to an L2-normalised `embedding_dim` vector; `embed` crops the boxes of a frame with
`torchvision.ops.roi_align` and embeds them in batches.

Crops are RGB, ImageNet mean / std normalised, (height, width) = `crop_size`, 256 x 128 by default as in the common
ReID baselines (e.g. Luo et al., "Bag of Tricks and a Strong Baseline for Deep Person Re-identification", 2019).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch
import torchvision
from torch import Tensor, nn
from torch.nn import functional as F
from torchvision.ops import roi_align

from videoanalyst.errors import InputError
from videoanalyst.models.siamfcpp.checkpoint import load_checkpoint
from videoanalyst.models.weights import sha256_prefix_in_name, user_weights, verify_sha256_prefix

Backbone = Literal["resnet50", "resnet18"]

#: torchvision's ImageNet weights of each backbone, whose file a user may have in torch's hub cache.
IMAGENET_WEIGHTS = {
    "resnet50": torchvision.models.ResNet50_Weights.IMAGENET1K_V1,
    "resnet18": torchvision.models.ResNet18_Weights.IMAGENET1K_V1,
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_TRUNK_PARTS = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")


class ReidNet(nn.Module):
    """ResNet trunk -> global average pool -> Linear -> L2 normalisation.

    Args:
        embedding_dim: length D of the embedding (128 or 256 usual).
        backbone: the torchvision ResNet whose layers up to layer4 form the trunk.
        crop_size: (height, width) in pixels of the crops `embed` feeds the network.
    """

    def __init__(
        self, embedding_dim: int = 128, backbone: Backbone = "resnet50", crop_size: tuple[int, int] = (256, 128)
    ) -> None:
        super().__init__()
        if backbone not in IMAGENET_WEIGHTS:
            raise ValueError(f"ReidNet.backbone: expected one of {', '.join(IMAGENET_WEIGHTS)}, got {backbone!r}")
        if embedding_dim < 1 or min(crop_size) < 1:
            raise ValueError(f"ReidNet: need embedding_dim >= 1 and a positive crop_size, got {embedding_dim}, "
                             f"{crop_size}")
        resnet = getattr(torchvision.models, backbone)(weights=None)
        self.backbone = backbone
        self.embedding_dim = embedding_dim
        self.crop_size = tuple(crop_size)
        self.trunk = nn.Sequential(OrderedDict((name, getattr(resnet, name)) for name in _TRUNK_PARTS))
        self.embedding = nn.Linear(resnet.fc.in_features, embedding_dim)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255, persistent=False)

    def features(self, crops: Tensor) -> Tensor:
        """(B, 3, h, w) float RGB crops in 0..255 -> (B, D) embeddings before normalisation (the identity
        classifier of training reads these)."""
        pooled = self.trunk((crops - self.mean) / self.std).mean(dim=(2, 3))
        return self.embedding(pooled)

    def forward(self, crops: Tensor) -> Tensor:
        """(B, 3, h, w) float RGB crops in 0..255 -> (B, D) L2-normalised embeddings."""
        return F.normalize(self.features(crops), dim=1)

    @torch.no_grad()
    def embed(self, image: Tensor, boxes: Tensor) -> Tensor:
        """(N, D) float32 L2-normalised embeddings of `boxes` (N, 4) float xyxy pixels in `image` (3, H, W) uint8
        RGB on the network's device; N = 0 gives (0, D)."""
        return self.embed_frames([image], [boxes])[0]

    @torch.no_grad()
    def embed_frames(self, images: Sequence[Tensor], boxes: Sequence[Tensor], max_batch: int = 64) -> list[Tensor]:
        """The embeddings of the boxes of several frames, their crops batched `max_batch` to a forward whatever
        frame they come from: one (N_i, D) tensor per frame, in order."""
        counts = [len(b) for b in boxes]
        offsets = [0, *itertools.accumulate(counts)]
        device = self.embedding.weight.device
        chunks = [torch.zeros((0, self.embedding_dim), device=device)]
        for start in range(0, offsets[-1], max_batch):
            stop = min(start + max_batch, offsets[-1])
            crops = [
                crop_boxes(images[f], boxes[f][max(start - offsets[f], 0) : stop - offsets[f]], self.crop_size)
                for f in range(len(images))
                if counts[f] and offsets[f] < stop and offsets[f + 1] > start
            ]
            chunks.append(self(torch.cat(crops)).float())
        return list(torch.cat(chunks).split(counts))


def crop_boxes(image: Tensor, boxes: Tensor, crop_size: tuple[int, int]) -> Tensor:
    """(N, 3, h, w) float32 crops in 0..255 of `boxes` (N, 4) xyxy pixels from `image` (3, H, W) uint8 RGB, resized
    to `crop_size` (h, w).

    Pixel i covers [i, i + 1), so the crop of an integer box equals a bilinear resize of the slice
    ``image[:, y1:y2, x1:x2]`` (roi_align with ``aligned=True``); each output pixel averages ceil(box / crop)
    samples a side, so a downscaled crop is not aliased. Parts of a box outside the image are black.
    """
    source = image[None].float()
    rois = boxes.to(device=source.device, dtype=torch.float32)
    return roi_align(source, [rois], output_size=crop_size, spatial_scale=1.0, sampling_ratio=0, aligned=True)


def build_reid(
    weights: str | Path | None = None,
    *,
    embedding_dim: int = 128,
    backbone: Backbone = "resnet50",
    crop_size: tuple[int, int] = (256, 128),
) -> ReidNet:
    """A `ReidNet` in eval mode: with the state dict in `weights` (a file of ours, or a training checkpoint), or
    randomly initialised when None. The crop size is not part of the weights (the network pools globally).

    Raises:
        InputError: the file is missing, damaged, or of another model (the message lists the missing and
            unexpected keys and the shapes that differ).
    """
    network = ReidNet(embedding_dim=embedding_dim, backbone=backbone, crop_size=crop_size)
    if weights is not None:
        load_checkpoint(network, user_weights(weights), f"ReidNet ({backbone}, {embedding_dim}-d)")
    return network.eval()


def load_imagenet_trunk(network: ReidNet, weights: str | Path | None = None) -> Path:
    """Start `network`'s trunk from torchvision's ImageNet file of its backbone: `weights`, else the file in
    torch's hub cache where torchvision keeps it, its sha256 checked against the prefix its name carries (as
    torch.hub checks a download). Nothing is downloaded; returns the file used.

    Raises:
        InputError: the file is absent (saying where to put it and where to get it), damaged, or not of this
            backbone.
    """
    spec = IMAGENET_WEIGHTS[network.backbone]
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(spec.url).name
    path = Path(weights).expanduser() if weights is not None else cached
    if not path.is_file():
        raise InputError(
            f"{path}: no ImageNet weights file for {network.backbone}; download {spec.url} and put it at {cached} "
            "or pass its path (nothing is downloaded automatically)"
        )
    verify_sha256_prefix(path, sha256_prefix_in_name(path.name))
    classifier = nn.Module()  # torchvision's layout: the trunk's layers (shared with `network`) and fc, unused
    for name, layer in network.trunk.named_children():
        classifier.add_module(name, layer)
    classifier.fc = nn.Linear(network.embedding.in_features, len(spec.meta["categories"]))
    load_checkpoint(classifier, path, f"torchvision's ImageNet {network.backbone}")
    return path
