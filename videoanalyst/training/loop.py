"""The iteration loop every trainer shares: schedule the learning rate, step the optimizer, stop on a diverged loss,
log the losses, checkpoint, show progress. Trainers differ only in their batches and how a batch becomes losses."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn
from tqdm import tqdm

from videoanalyst.errors import ConfigError
from videoanalyst.training.checkpoints import CHECKPOINT_NAME, LOG_NAME, LossLog, save_checkpoint
from videoanalyst.training.schedule import WarmupCosine


class LoopSettings(Protocol):
    """What the loop reads of a training config (`TrainConfig`, `ReidTrainConfig`)."""

    warmup_iterations: int
    total_iterations: int
    start_lr: float
    peak_lr: float
    end_lr: float
    log_every: int
    checkpoint_every: int

    def to_dict(self) -> dict[str, Any]: ...


def run_iterations(config: LoopSettings, module: nn.Module, optimizer: torch.optim.Optimizer, batches: Iterable[Any],
                   losses_of: Callable[[Any], dict[str, Tensor]], logged: Sequence[str], output: Path, step: int,
                   end: int, progress: bool) -> None:
    """Iterations `step` .. `end` - 1, one batch each; `losses_of(batch)` returns the losses, "loss" the one minimised.

    Writes a `logged` row to ``output/log.jsonl`` every `log_every` iterations and ``output/checkpoint.pt`` every
    `checkpoint_every` and at `end`.

    Raises:
        ConfigError: the loss is not finite (naming the step; the last checkpoint is from before it).
    """
    schedule = WarmupCosine(config.warmup_iterations, config.total_iterations, config.start_lr, config.peak_lr,
                            config.end_lr)
    log = LossLog(output / LOG_NAME, step)
    bar = tqdm(total=config.total_iterations, initial=step, disable=not progress, unit="it", dynamic_ncols=True)
    started = time.perf_counter()
    try:
        for batch in batches:
            lr = schedule.apply(optimizer, step)
            losses = losses_of(batch)
            optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            optimizer.step()
            step += 1
            if not math.isfinite(loss := losses["loss"].item()):
                raise ConfigError(f"step {step}: the loss became {loss}; training diverged (lower peak_lr); the "
                                  f"last checkpoint in {output} is from before")
            if step % config.log_every == 0 or step == end:
                values = {key: losses[key].item() for key in logged}
                log.write({"step": step, "lr": lr, **values, "seconds": round(time.perf_counter() - started, 3)})
                bar.set_postfix(loss=f"{values['loss']:.4f}", lr=f"{lr:.2e}", refresh=False)
            bar.update(1)
            if step % config.checkpoint_every == 0 or step == end:
                save_checkpoint(output / CHECKPOINT_NAME, module, optimizer, step, config)  # type: ignore[arg-type]
    finally:
        bar.close()
        log.close()
