"""`TrainConfig`: every setting of a SiamFC++ training run, one field each; a training experiment YAML sets exactly
these fields (`experiments/*_train.yaml`), and `load_train_config` reads one and checks every key and value.

Where a field has a counterpart in video_analyst's published recipe
(megvii-research/video_analyst, experiments/siamfcpp/train/got10k/siamfcpp_alexnet-trn.yaml), its default is the
published value and the docstring names the reference key.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from videoanalyst.errors import ConfigError
from videoanalyst.models.device import check_device_name
from videoanalyst.models.siamfcpp.network import EXEMPLAR_SIZE
from videoanalyst.pipeline.config import check_arguments, check_value, read_yaml_mapping
from videoanalyst.pipeline.config import parse_overrides as parse_key_values
from videoanalyst.synthetic.scene import SceneConfig

ModelName = Literal["siamfcpp_alexnet", "siamfcpp_googlenet"]

#: Settings that change how a run is executed, not what it computes: a resumed run may change them.
RUNTIME_FIELDS = ("device", "num_workers", "checkpoint_every", "log_every")

#: Stride of the score map in search-crop pixels, of both published backbones.
TOTAL_STRIDE = 8


@dataclass(frozen=True)
class TrainConfig:
    """One SiamFC++ training run: data, sampling, augmentation, targets, losses, optimiser and schedule.

    Args:
        model: the network builder (`videoanalyst.experiments.MODEL_BUILDERS`), trained from its initialisation
            or from `init_weights`.
        init_weights: a weights file of `model` (ours, fp16 or fp32, or an official checkpoint) to start from,
            e.g. to fine-tune; None: the builder's seeded initialisation (video_analyst's ``pretrain_model_path``
            does this for the backbone alone).
        data: a GOT-10k split folder (sequence folders listed in ``list.txt``, or all of them) or one sequence
            folder; None: synthetic scenes rendered in memory (`synthetic`, `synthetic_sequences`).
        synthetic: `SceneConfig` settings of the synthetic scenes (scene k gets the scene seed + k); every object
            of every scene is one training sequence.
        synthetic_sequences: number of synthetic scenes.
        max_frame_gap: largest frame distance between the template and search frames of a pair (``max_diff``).
        min_visibility: frames where no more than this fraction of the target is visible are never sampled (ours;
            video_analyst samples every frame); for GOT-10k the fraction is the upper bound of the cover level.
        negative_pair_ratio: share of pairs whose two frames come from independently drawn targets
            (``TrackPairSampler.negative_pair_ratio``); their search crop teaches the classifier what is not the
            template.
        min_area_rate, max_area_rate: frames whose box area / image area is not strictly between these are never
            sampled (``TrackPairFilter``).
        max_aspect_ratio: frames whose box's long / short side is not below this are never sampled
            (``TrackPairFilter.max_ratio``).
        search_size: side of the search crop in pixels (``x_size``); 127 + a multiple of 8. The network does not
            depend on it: weights trained at one size track at another.
        context_amount: context added around the target for the crop side (video_analyst's ``context_amount``).
        max_shift: the search window's centre moves up to this fraction of its half side each way
            (``RandomCropTransformer.max_shift``); larger: the target lands farther from the crop centre.
        max_scale: the search window's side is scaled by a factor uniform in [1 / (1 + s), 1 + s]
            (``RandomCropTransformer.max_scale``).
        color_jitter: brightness, contrast and saturation of each crop are scaled by factors uniform in
            [1 - j, 1 + j]; 0: off (the published recipe has none).
        blur_probability: chance that a crop is Gaussian-blurred; 0: off (the published recipe has none).
        blur_sigma: the blur's sigma is uniform in [0.1, blur_sigma] pixels.
        focal_alpha, focal_gamma: focal loss of the classification branch (``FocalLoss.alpha``, ``gamma``).
        cls_weight, ctr_weight, iou_weight: loss weights of classification, centerness and IoU
            (``FocalLoss.weight``, ``SigmoidCrossEntropyCenterness.weight``, ``IOULoss.weight``).
        batch_size: pairs per iteration (``minibatch``).
        num_epochs: epochs of the schedule (``num_epochs``).
        images_per_epoch: pairs per epoch (``nr_image_per_epoch``); an epoch is images_per_epoch // batch_size
            iterations.
        warmup_epochs: epochs of linear warm-up from start_lr to peak_lr (``LinearLR.max_epoch``); the rest is a
            cosine decay from peak_lr to end_lr (``CosineLR``), both updated every iteration.
        start_lr, peak_lr, end_lr: learning rates at the first iteration, at the end of the warm-up, at the end.
        momentum, weight_decay: of SGD (``SGD.momentum``, ``SGD.weight_decay``).
        num_workers: data-loading processes; 0 loads in the training process. Every pair is drawn from its own
            seed, so results do not depend on this.
        seed: seeds the network's initialisation and every pair (pair i of the run draws from (seed, i)).
        device: where the network trains: "auto" (CUDA when there is a GPU), "cpu", "cuda" or "cuda:N".
        checkpoint_every: iterations between checkpoints (one also at the end).
        log_every: iterations between rows of the loss log and progress-bar updates.
    """

    model: ModelName = "siamfcpp_alexnet"
    init_weights: str | None = None
    data: str | None = None
    synthetic: dict[str, Any] = field(default_factory=dict)
    synthetic_sequences: int = 64
    max_frame_gap: int = 100
    min_visibility: float = 0.0
    negative_pair_ratio: float = 0.1
    min_area_rate: float = 0.001
    max_area_rate: float = 0.6
    max_aspect_ratio: float = 10.0
    search_size: int = 303
    context_amount: float = 0.5
    max_shift: float = 0.4
    max_scale: float = 0.3
    color_jitter: float = 0.0
    blur_probability: float = 0.0
    blur_sigma: float = 1.0
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    cls_weight: float = 1.0
    ctr_weight: float = 1.0
    iou_weight: float = 3.0
    batch_size: int = 32
    num_epochs: int = 20
    images_per_epoch: int = 400000
    warmup_epochs: int = 1
    start_lr: float = 1e-6
    peak_lr: float = 0.08
    end_lr: float = 1e-6
    momentum: float = 0.9
    weight_decay: float = 5e-5
    num_workers: int = 1
    seed: int = 0
    device: str = "cpu"
    checkpoint_every: int = 1000
    log_every: int = 10

    def __post_init__(self) -> None:
        check_device_name(self.device, "device")
        at_least_one = ("synthetic_sequences", "batch_size", "num_epochs", "checkpoint_every", "log_every")
        at_least_zero = (
            "max_frame_gap",
            "warmup_epochs",
            "num_workers",
            "max_shift",
            "max_scale",
            "focal_gamma",
            "cls_weight",
            "ctr_weight",
            "iou_weight",
            "momentum",
            "weight_decay",
        )
        positive = ("start_lr", "peak_lr", "end_lr", "blur_sigma", "max_aspect_ratio", "max_area_rate")
        fraction = (
            "min_visibility",
            "negative_pair_ratio",
            "blur_probability",
            "focal_alpha",
            "min_area_rate",
            "color_jitter",
        )
        for name in at_least_one:
            _require(name, getattr(self, name) >= 1, "an int >= 1", getattr(self, name))
        for name in at_least_zero:
            _require(name, getattr(self, name) >= 0, "a value >= 0", getattr(self, name))
        for name in positive:
            _require(name, getattr(self, name) > 0, "a value > 0", getattr(self, name))
        for name in fraction:
            _require(name, 0 <= getattr(self, name) <= 1, "a value in [0, 1]", getattr(self, name))
        _require(
            "max_area_rate", self.max_area_rate > self.min_area_rate, "a value > min_area_rate", self.max_area_rate
        )
        _require("warmup_epochs", self.warmup_epochs < self.num_epochs, "fewer than num_epochs", self.warmup_epochs)
        _require(
            "images_per_epoch", self.images_per_epoch >= self.batch_size, "at least batch_size", self.images_per_epoch
        )
        _require(
            "search_size",
            self.search_size > EXEMPLAR_SIZE and (self.search_size - EXEMPLAR_SIZE) % TOTAL_STRIDE == 0,
            f"{EXEMPLAR_SIZE} + a positive multiple of {TOTAL_STRIDE}",
            self.search_size,
        )
        _ = self.scene  # checks the scene settings

    @property
    def scene(self) -> SceneConfig:
        """The `SceneConfig` of the synthetic scenes."""
        try:
            return SceneConfig(**check_arguments(SceneConfig, self.synthetic, "synthetic", "SceneConfig"))
        except ValueError as error:
            raise ConfigError(f"synthetic: {error}") from None

    @property
    def iterations_per_epoch(self) -> int:
        return self.images_per_epoch // self.batch_size

    @property
    def total_iterations(self) -> int:
        return self.num_epochs * self.iterations_per_epoch

    @property
    def warmup_iterations(self) -> int:
        return self.warmup_epochs * self.iterations_per_epoch

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain YAML/JSON values, as a training YAML would write them."""
        return dataclasses.asdict(self)


def _require(name: str, ok: bool, expected: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{name}: expected {expected}, got {value!r}")


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``key=value`` command-line items as {key: value}, values read as YAML; ``synthetic.KEY=value`` sets one
    scene setting."""
    return dict(parse_key_values(items, "command line"))


def load_train_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Read a training YAML, apply `overrides` ({field: value}, or ``synthetic.KEY``) and check everything.

    Raises:
        ConfigError: naming the file (or the command line) and the key, with what is allowed.
    """
    path = Path(path)
    raw = read_yaml_mapping(path, "experiment", "a mapping of TrainConfig settings")
    settings = _checked(raw, str(path))
    overrides = dict(overrides or {})
    scene = {
        key.removeprefix("synthetic."): overrides.pop(key) for key in list(overrides) if key.startswith("synthetic.")
    }
    settings.update(_checked(overrides, "command line"))
    settings["synthetic"] = {**settings.get("synthetic", {}), **scene}
    try:
        return TrainConfig(**settings)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def _checked(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """`raw` with every key a `TrainConfig` field and every value of its type (ints pass as floats)."""
    hints = typing.get_type_hints(TrainConfig)
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    checked = {}
    for key, value in raw.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown key {key!r}{hint}; allowed: {', '.join(names)}")
        checked[key] = check_value(value, hints[key], f"{where}: {key}")
    return checked
