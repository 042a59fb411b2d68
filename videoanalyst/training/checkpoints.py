"""What a training run keeps in its output folder, each file written atomically (to a temporary name, then renamed
over the old one), so an interrupted run never leaves a half-written file: ``checkpoint.pt`` (everything needed to
continue), ``final.pt`` (the trained network alone) and ``log.jsonl`` (the losses)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from videoanalyst.errors import ConfigError, InputError
from videoanalyst.models.weights import load_error_reason
from videoanalyst.training.config import RUNTIME_FIELDS, TrainConfig

CHECKPOINT_NAME = "checkpoint.pt"
FINAL_NAME = "final.pt"
LOG_NAME = "log.jsonl"


def save_atomic(data: Any, path: Path) -> None:
    """`torch.save` to a temporary file beside `path`, flushed to disk, then renamed over `path`."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            torch.save(data, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_checkpoint(
    path: Path, network: nn.Module, optimizer: torch.optim.Optimizer, step: int, config: TrainConfig
) -> None:
    """The state after `step` iterations: network, optimizer (momentum buffers), step, the settings, and the torch,
    NumPy and Python random states. The lr schedule is a function of the step, so the step is its state."""
    save_atomic(
        {
            "network": network.state_dict(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "config": config.to_dict(),
            "rng": _random_states(),
        },
        path,
    )


def load_checkpoint(path: Path, network: nn.Module, optimizer: torch.optim.Optimizer, config: TrainConfig) -> int:
    """Restore a `save_checkpoint` file into `network` and `optimizer`, and the random states; returns its step.

    Raises:
        InputError: the file is missing or not such a checkpoint.
        ConfigError: it was saved with other settings (those of `RUNTIME_FIELDS` may differ), naming them.
    """
    if not path.is_file():
        raise InputError(f"{path}: no checkpoint to resume from")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        saved, step = state["config"], int(state["step"])
    except Exception as error:  # torch raises pickle, zip and runtime errors for damaged or foreign files
        raise InputError(f"{path}: not a training checkpoint: {load_error_reason(error)}") from None
    current = config.to_dict()
    changed = [
        f"{key} ({saved.get(key)!r} -> {value!r})"
        for key, value in current.items()
        if key not in RUNTIME_FIELDS and saved.get(key) != value
    ]
    if changed:
        raise ConfigError(
            f"{path}: saved with other settings: {', '.join(changed)}; resume with the same settings, "
            f"or train into another output folder"
        )
    network.load_state_dict(state["network"])
    optimizer.load_state_dict(state["optimizer"])
    _restore_random_states(state["rng"])
    return step


def save_final(path: Path, network: nn.Module) -> None:
    """The network's plain state dict (floating tensors as float32, on the CPU), loadable by
    `videoanalyst.models.siamfcpp.checkpoint.load_checkpoint`."""
    save_atomic(
        {
            key: value.detach().to("cpu", torch.float32 if value.is_floating_point() else value.dtype)
            for key, value in network.state_dict().items()
        },
        path,
    )


class LossLog:
    """``log.jsonl``: one JSON object a logged step. Opening it for a run that continues from `step` keeps the rows
    up to that step and drops later ones (written after the checkpoint it resumes from); 0 starts afresh."""

    def __init__(self, path: Path, step: int) -> None:
        kept = [row for row in read_loss_log(path) if row["step"] <= step] if step > 0 and path.is_file() else []
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text("".join(json.dumps(row) + "\n" for row in kept))
        os.replace(temporary, path)
        self.file = open(path, "a")

    def write(self, row: dict[str, Any]) -> None:
        """Append one row and flush it, so a crash keeps it."""
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_loss_log(path: Path) -> list[dict[str, Any]]:
    """The rows of a ``log.jsonl``, in order."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _random_states() -> dict[str, Any]:
    numpy_state = np.random.get_state(legacy=False)
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        "numpy_key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
        "numpy_pos": numpy_state["state"]["pos"],
        "python": random.getstate(),
    }


def _restore_random_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    numpy_state = np.random.get_state(legacy=False)
    numpy_state["state"] = {"key": states["numpy_key"].numpy().astype(np.uint32), "pos": int(states["numpy_pos"])}
    numpy_state["has_gauss"], numpy_state["gauss"] = 0, 0.0
    np.random.set_state(numpy_state)
    random.setstate(states["python"])
