"""`ReidTrainConfig`: every setting of a ReID training run, one field each; a ReID training YAML
(``experiments/reid_*_train.yaml``, recognised by ``model: reid``) sets exactly these fields.

The recipe follows the strong ReID baseline of Luo et al. 2019 ("Bag of Tricks and a Strong Baseline for Deep
Person Re-identification"): PK batches, batch-hard triplet loss (Hermans et al. 2017, margin 0.3) plus an identity
cross-entropy with label smoothing 0.1, Adam at 3.5e-4 with a warm-up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from videoanalyst.errors import ConfigError
from videoanalyst.models.device import check_device_name
from videoanalyst.models.reid import Backbone
from videoanalyst.pipeline.config import check_arguments, read_yaml_mapping
from videoanalyst.training.config import TrainConfig, _require

#: The `model` value that marks a training experiment as a ReID one.
REID_MODEL = "reid"


@dataclass(frozen=True)
class ReidTrainConfig:
    """One ReID training run on synthetic scenes: data, batches, augmentation, losses, optimiser and schedule.

    Args:
        model: "reid"; it tells ``python -m videoanalyst.train`` that the file is a ReID experiment.
        backbone: the ResNet of the `ReidNet` trained.
        embedding_dim: length of the embedding.
        crop_height, crop_width: size of the crops, in pixels; the stage should embed at the same size.
        weights_backbone: torchvision's ImageNet weights file of `backbone` to start the trunk from, or "imagenet"
            for the file in torch's hub cache (nothing is downloaded); None: random initialisation.
        synthetic: `SceneConfig` settings of the scenes (scene k gets the scene seed + k).
        synthetic_sequences: number of scenes; every object of every scene is one identity.
        min_visibility: crops of objects less visible than this (hidden or out of view) are never sampled.
        identities_per_batch: P of a PK batch: identities drawn per iteration (without replacement).
        crops_per_identity: K of a PK batch: crops per identity, from different frames where it has enough.
        box_jitter: standard deviation of the noise added to each box corner, as a fraction of the box's width /
            height, so the network learns detector-like boxes; 0: exact boxes.
        flip_probability: chance that a crop is mirrored left-right.
        triplet_margin: margin of the batch-hard triplet loss on the L2-normalised embeddings.
        triplet_weight, identity_weight: weights of the triplet and identity cross-entropy losses.
        label_smoothing: label smoothing of the identity cross-entropy (0: none).
        optimizer: "adam" or "sgd" (with `momentum`).
        total_iterations: iterations in all.
        warmup_iterations: linear warm-up from start_lr to peak_lr; then a cosine decay to end_lr.
        start_lr, peak_lr, end_lr: learning rates at the first iteration, after the warm-up, at the end.
        momentum: of SGD.
        weight_decay: of either optimiser.
        num_workers: batch-making processes; 0 makes them in the training process. Batch i is drawn from (seed,
            i), so results do not depend on this.
        seed: seeds the network's initialisation and every batch.
        device: where the network trains: "auto" (CUDA when there is a GPU), "cpu", "cuda" or "cuda:N".
        checkpoint_every: iterations between checkpoints (one also at the end).
        log_every: iterations between rows of the loss log and progress-bar updates.
    """

    model: Literal["reid"] = REID_MODEL
    backbone: Backbone = "resnet50"
    embedding_dim: int = 128
    crop_height: int = 256
    crop_width: int = 128
    weights_backbone: str | None = None
    synthetic: dict[str, Any] = field(default_factory=dict)
    synthetic_sequences: int = 64
    min_visibility: float = 0.5
    identities_per_batch: int = 16
    crops_per_identity: int = 4
    box_jitter: float = 0.05
    flip_probability: float = 0.5
    triplet_margin: float = 0.3
    triplet_weight: float = 1.0
    identity_weight: float = 1.0
    label_smoothing: float = 0.1
    optimizer: Literal["adam", "sgd"] = "adam"
    total_iterations: int = 4000
    warmup_iterations: int = 400
    start_lr: float = 3.5e-6
    peak_lr: float = 3.5e-4
    end_lr: float = 3.5e-6
    momentum: float = 0.9
    weight_decay: float = 5e-4
    num_workers: int = 1
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 500
    log_every: int = 10

    def __post_init__(self) -> None:
        check_device_name(self.device, "device")
        at_least_one = ("embedding_dim", "crop_height", "crop_width", "synthetic_sequences", "crops_per_identity",
                        "total_iterations", "checkpoint_every", "log_every")
        for name in at_least_one:
            _require(name, getattr(self, name) >= 1, "an int >= 1", getattr(self, name))
        for name in ("box_jitter", "triplet_margin", "triplet_weight", "identity_weight", "momentum", "weight_decay",
                     "warmup_iterations", "num_workers"):
            _require(name, getattr(self, name) >= 0, "a value >= 0", getattr(self, name))
        for name in ("start_lr", "peak_lr", "end_lr"):
            _require(name, getattr(self, name) > 0, "a value > 0", getattr(self, name))
        for name in ("min_visibility", "flip_probability", "label_smoothing"):
            _require(name, 0 <= getattr(self, name) <= 1, "a value in [0, 1]", getattr(self, name))
        _require("identities_per_batch", self.identities_per_batch >= 2, "an int >= 2 (the triplet loss needs "
                 "negatives)", self.identities_per_batch)
        _require("warmup_iterations", self.warmup_iterations < self.total_iterations, "fewer than total_iterations",
                 self.warmup_iterations)
        _ = self.scene  # checks the scene settings

    #: The `SceneConfig` of the synthetic scenes, checked as the SiamFC++ training checks its `synthetic`.
    scene = TrainConfig.scene

    @property
    def crop_size(self) -> tuple[int, int]:
        return self.crop_height, self.crop_width

    @property
    def batch_size(self) -> int:
        return self.identities_per_batch * self.crops_per_identity

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain YAML/JSON values."""
        return dataclasses.asdict(self)


def is_reid_experiment(path: Path) -> bool:
    """Whether the training YAML at `path` is a ReID experiment (``model: reid``)."""
    return read_yaml_mapping(path, "experiment", "a mapping of training settings").get("model") == REID_MODEL


def load_reid_train_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> ReidTrainConfig:
    """Read a ReID training YAML, apply `overrides` ({field: value}, or ``synthetic.KEY``) and check everything.

    Raises:
        ConfigError: naming the file (or the command line) and the key, with what is allowed.
    """
    path = Path(path)
    raw = read_yaml_mapping(path, "experiment", "a mapping of ReidTrainConfig settings")
    overrides = dict(overrides or {})
    scene = {
        key.removeprefix("synthetic."): overrides.pop(key) for key in list(overrides) if key.startswith("synthetic.")
    }
    settings = {
        **check_arguments(ReidTrainConfig, raw, str(path), "ReidTrainConfig"),
        **check_arguments(ReidTrainConfig, overrides, "command line", "ReidTrainConfig"),
    }
    settings["synthetic"] = {**settings.get("synthetic", {}), **scene}
    try:
        return ReidTrainConfig(**settings)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
