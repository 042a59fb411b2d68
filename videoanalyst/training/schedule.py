"""The learning rate of every iteration: linear warm-up, then cosine decay, as video_analyst's `LinearLR` followed by
`CosineLR` (megvii-research/video_analyst, videoanalyst/optim/optimizer/optimizer_impl/utils/lr_policy.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class WarmupCosine:
    """lr(step) for step = 0, 1, ..., total_steps - 1, a pure function of the step (so a resumed run needs only the
    step to continue the schedule).

    Warm-up, step < warmup_steps: ``start + (peak - start) * step / warmup_steps``. Then, with
    ``t = (step - warmup_steps) / (total_steps - warmup_steps)``: ``peak + (end - peak) * (1 - cos(pi t)) / 2``.
    Each phase's progress is the iteration over that phase's length, as lr_policy's TransitionLR computes it.

    Args:
        warmup_steps: iterations of warm-up (0: none).
        total_steps: iterations in all.
        start_lr, peak_lr, end_lr: lr at step 0, at the end of the warm-up, and approached at the end.
    """

    warmup_steps: int
    total_steps: int
    start_lr: float
    peak_lr: float
    end_lr: float

    def __post_init__(self) -> None:
        if not 0 <= self.warmup_steps < self.total_steps:
            raise ValueError(f"need 0 <= warmup_steps < total_steps, got {self.warmup_steps}, {self.total_steps}")

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.start_lr + (self.peak_lr - self.start_lr) * step / self.warmup_steps
        progress = (step - self.warmup_steps) / (self.total_steps - self.warmup_steps)
        return self.peak_lr + (self.end_lr - self.peak_lr) * (1 - math.cos(math.pi * progress)) / 2

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        """Set every parameter group's lr to lr(step) (lr_policy's schedule_lr); returns it."""
        lr = self(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr
