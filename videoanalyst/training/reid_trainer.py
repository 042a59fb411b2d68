"""The ReID training loop: PK batches of synthetic-scene crops, batch-hard triplet + identity cross-entropy, Adam or
SGD on the warm-up + cosine schedule, a loss log, checkpoints every N iterations and resuming from the last one.

It keeps the files and conventions of the SiamFC++ trainer (`videoanalyst.training.trainer`): ``log.jsonl``,
``checkpoint.pt`` (network with its training-only classifier, optimizer, step, settings, random states) and, at the
end, ``final.pt``: the `ReidNet` state dict alone, for `build_reid` and the ``reid`` stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from videoanalyst.errors import ConfigError
from videoanalyst.models.reid import ReidNet, load_imagenet_trunk
from videoanalyst.training.checkpoints import (
    CHECKPOINT_NAME,
    FINAL_NAME,
    load_checkpoint,
    save_final,
)
from videoanalyst.training.dataset import seed_worker
from videoanalyst.training.loop import run_iterations
from videoanalyst.training.reid_config import ReidTrainConfig
from videoanalyst.training.reid_data import PKBatches, identity_crops
from videoanalyst.training.reid_losses import ReidLoss
from videoanalyst.training.trainer import training_device

#: What each loss-log row holds besides the step, lr and time: the `ReidLoss` outputs.
LOGGED = ("loss", "triplet", "identity")


class ReidTrainee(nn.Module):
    """The `ReidNet` being trained and its identity classifier (a bias-free linear layer on the embedding before
    normalisation), which only the identity loss uses."""

    def __init__(self, network: ReidNet, num_identities: int) -> None:
        super().__init__()
        self.network = network
        self.classifier = nn.Linear(network.embedding_dim, num_identities, bias=False)

    def forward(self, crops: Tensor) -> tuple[Tensor, Tensor]:
        """(B, 3, h, w) float crops in 0..255 -> (B, D) L2-normalised embeddings and (B, identities) logits."""
        features = self.network.features(crops)
        return F.normalize(features, dim=1), self.classifier(features)


def train_reid(
    config: ReidTrainConfig, output: Path, resume: bool = False, stop_at: int | None = None, progress: bool = True
) -> int:
    """Train a `ReidNet` as `config` says, writing into `output`; returns the step reached. The arguments, files
    and refusals are those of `videoanalyst.training.trainer.train` (``final.pt`` holds the `ReidNet` alone).

    Raises:
        ConfigError, InputError: bad settings, a missing ImageNet file, or a checkpoint of other settings.
    """
    device = training_device(config.device)
    crops = identity_crops(config.scene, config.synthetic_sequences, config.min_visibility)
    torch.manual_seed(config.seed)
    network = ReidNet(config.embedding_dim, config.backbone, config.crop_size)
    if config.weights_backbone is not None:
        load_imagenet_trunk(network, None if config.weights_backbone == "imagenet" else config.weights_backbone)
    trainee = ReidTrainee(network, crops.num_identities).to(device).train()
    optimizer = _optimizer(config, trainee.parameters())
    checkpoint = output / CHECKPOINT_NAME
    if checkpoint.exists() and not resume:
        raise ConfigError(f"{output}: holds a checkpoint already; continue it with --resume, or train into another "
                          "--output")
    output.mkdir(parents=True, exist_ok=True)
    # The checkpoint functions are the SiamFC++ trainer's; they need only the config's `to_dict`.
    step = load_checkpoint(checkpoint, trainee, optimizer, config) if resume else 0  # type: ignore[arg-type]
    end = config.total_iterations if stop_at is None else min(stop_at, config.total_iterations)
    batches = DataLoader(
        PKBatches(crops, config),
        batch_size=None,
        sampler=range(step, end),
        num_workers=config.num_workers,
        worker_init_fn=seed_worker,
        pin_memory=device.type == "cuda",
    )
    if step < end:
        _run(config, trainee, optimizer, batches, output, step, end, device, progress)
    if end == config.total_iterations:
        save_final(output / FINAL_NAME, network)
    return max(step, end)


def _optimizer(config: ReidTrainConfig, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            parameters, lr=config.start_lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    return torch.optim.Adam(parameters, lr=config.start_lr, weight_decay=config.weight_decay)


def _run(
    config: ReidTrainConfig,
    trainee: ReidTrainee,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[dict[str, Tensor]],
    output: Path,
    step: int,
    end: int,
    device: torch.device,
    progress: bool,
) -> None:
    """Iterations `step` .. `end` - 1 over PK batches, logging and checkpointing as `config` says."""
    criterion = ReidLoss(config.triplet_margin, config.triplet_weight, config.identity_weight, config.label_smoothing)

    def losses_of(batch: dict[str, Tensor]) -> dict[str, Tensor]:
        labels = batch["labels"].to(device, non_blocking=True)
        return criterion(*trainee(batch["crops"].to(device, non_blocking=True).float()), labels)

    run_iterations(config, trainee, optimizer, batches, losses_of, LOGGED, output, step, end, progress)
