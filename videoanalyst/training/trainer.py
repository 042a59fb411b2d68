"""The training loop: SGD over batches of pairs with the warm-up + cosine schedule, a loss log, checkpoints every N
iterations, and resuming from the last one (the loop of video_analyst's `RegularTrainer`, megvii-research/
video_analyst videoanalyst/engine/trainer/trainer_impl/regular_trainer.py, which clips no gradients)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import DataLoader

from videoanalyst.errors import ConfigError
from videoanalyst.experiments import MODEL_BUILDERS
from videoanalyst.models.device import pick_device
from videoanalyst.models.siamfcpp.checkpoint import load_checkpoint as load_weights
from videoanalyst.models.siamfcpp.network import EXEMPLAR_SIZE, SiamFCpp
from videoanalyst.models.weights import user_weights
from videoanalyst.training.checkpoints import (
    CHECKPOINT_NAME,
    FINAL_NAME,
    load_checkpoint,
    save_final,
)
from videoanalyst.training.config import TrainConfig
from videoanalyst.training.dataset import PairDataset, seed_worker
from videoanalyst.training.loop import run_iterations
from videoanalyst.training.losses import SiamFCppLoss
from videoanalyst.training.pairs import TrackSequence, got10k_sequences, synthetic_sequences

#: What each loss-log row holds besides the step, lr and time: the `SiamFCppLoss` outputs.
LOGGED = ("loss", "cls", "ctr", "reg", "iou")


def train(
    config: TrainConfig, output: Path, resume: bool = False, stop_at: int | None = None, progress: bool = True
) -> int:
    """Train `config.model` as `config` says, writing into `output`; returns the step reached.

    Writes ``log.jsonl`` (a row every `log_every` iterations: step, lr, the losses, seconds since this session
    started), ``checkpoint.pt`` every `checkpoint_every` iterations and at the end, and ``final.pt`` (the network's
    fp32 state dict) when the schedule is complete.

    Args:
        config: the run's settings.
        output: folder for the files above; created if missing.
        resume: continue from ``output/checkpoint.pt`` at its step. Without it, a folder holding a checkpoint is
            refused, so nothing is overwritten by mistake.
        stop_at: stop after this many iterations in all (with a checkpoint), to continue later with `resume`.
        progress: show a progress bar (iterations, it/s, loss, lr).

    Raises:
        ConfigError, InputError: bad settings, missing or malformed data, or a checkpoint of other settings.
    """
    device = training_device(config.device)
    sequences = _sequences(config)
    torch.manual_seed(config.seed)
    network = MODEL_BUILDERS[config.model]()
    if config.init_weights is not None:
        load_weights(network, user_weights(config.init_weights), config.model)
    network = network.to(device).train()
    if network.score_size(config.search_size) < 1:
        smallest = EXEMPLAR_SIZE + 2 * network.total_stride * network.head.num_convs
        raise ConfigError(
            f"search_size: {config.search_size} leaves {config.model} no score map; it needs at least {smallest}"
        )
    optimizer = torch.optim.SGD(
        network.parameters(), lr=config.start_lr, momentum=config.momentum, weight_decay=config.weight_decay
    )
    output.mkdir(parents=True, exist_ok=True)
    checkpoint = output / CHECKPOINT_NAME
    if resume:
        step = load_checkpoint(checkpoint, network, optimizer, config)
    elif checkpoint.exists():
        raise ConfigError(
            f"{output}: holds a checkpoint already; continue it with --resume, or train into another --output"
        )
    else:
        step = 0
    end = config.total_iterations if stop_at is None else min(stop_at, config.total_iterations)
    if step < end:
        _run(config, network, optimizer, sequences, output, step, end, device, progress)
    if end == config.total_iterations:
        save_final(output / FINAL_NAME, network)
    return max(step, end)


def _run(
    config: TrainConfig,
    network: SiamFCpp,
    optimizer: torch.optim.Optimizer,
    sequences: list[TrackSequence],
    output: Path,
    step: int,
    end: int,
    device: torch.device,
    progress: bool,
) -> None:
    """Iterations `step` .. `end` - 1 over pairs of `sequences`, logging and checkpointing as `config` says."""
    dataset = PairDataset(sequences, config, network.score_size(config.search_size))
    batch = config.batch_size
    loader = DataLoader(
        dataset,
        batch_size=batch,
        sampler=range(step * batch, end * batch),
        drop_last=True,
        num_workers=config.num_workers,
        worker_init_fn=seed_worker,
        generator=torch.Generator().manual_seed(config.seed + step),
        pin_memory=device.type == "cuda",
    )
    criterion = SiamFCppLoss(
        config.focal_alpha, config.focal_gamma, config.cls_weight, config.ctr_weight, config.iou_weight
    )

    def losses_of(sample: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        exemplar, search = (sample[key].to(device, non_blocking=True).float() for key in ("exemplar", "search"))
        cls, ctr, boxes = (sample[key].to(device, non_blocking=True) for key in ("cls", "ctr", "boxes"))
        return criterion(network(exemplar, search), cls, ctr, boxes)

    run_iterations(config, network, optimizer, loader, losses_of, LOGGED, output, step, end, progress)


def training_device(name: str) -> torch.device:
    """The device a training config names (as `pick_device` reads it), with cuDNN autotuning on for CUDA."""
    device = pick_device(name, "training: device")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return device


def _sequences(config: TrainConfig) -> list[TrackSequence]:
    if config.data is None:
        return synthetic_sequences(config.scene, config.synthetic_sequences)
    return got10k_sequences(Path(config.data))
