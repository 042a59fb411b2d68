"""Sharding a data set over the processes ``torchrun`` starts: which process this is, which sequences are its own,
and waiting for all of them.

``torchrun --nproc_per_node N`` starts N copies of the command and gives each ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` in its environment (PyTorch ``torch/distributed/run.py``);
without them a command runs as the one process of a world of one.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

from videoanalyst.errors import ConfigError

T = TypeVar("T")

#: How long a process may wait at a barrier for the others. A shard of long sequences can finish hours after
#: another, and torch's default (30 minutes) would then kill a healthy run; a process that dies is noticed by
#: torchrun, which stops the others, so a long wait never hangs.
BARRIER_TIMEOUT = datetime.timedelta(hours=48)
#: What torchrun sets for each process, all needed to join its process group.
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class Shard:
    """This process's part of the work: process `rank` of `world_size`, `local_rank` on its machine.

    Args:
        rank: 0 .. world_size - 1; rank 0 alone writes the report.
        world_size: processes sharing the data set.
        local_rank: this process's index on its machine: the GPU it takes.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    def __post_init__(self) -> None:
        if not (0 <= self.rank < self.world_size and self.local_rank >= 0):
            raise ValueError(
                f"Shard: need 0 <= rank < world_size and local_rank >= 0, got rank {self.rank}, world_size "
                f"{self.world_size}, local_rank {self.local_rank}"
            )

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the process that reports."""
        return self.rank == 0

    @property
    def label(self) -> str:
        """``"rank R/N: "`` to prefix this process's messages with when there are several; else empty."""
        return f"rank {self.rank}/{self.world_size}: " if self.world_size > 1 else ""

    def pick(self, items: Sequence[T]) -> list[T]:
        """This process's items: number rank, rank + N, rank + 2N... (round robin, so shards of a list sorted by
        name get similar mixes, and each item goes to exactly one process)."""
        return list(items[self.rank :: self.world_size])

    def device(self, device: str) -> str:
        """The device this process computes on: ``cuda`` becomes ``cuda:LOCAL_RANK`` (one GPU a process); any other
        name, ``cuda:N`` included, is kept as given."""
        return f"cuda:{self.local_rank}" if device == "cuda" else device


def shard_from_environment(environ: Mapping[str, str] = os.environ) -> Shard | None:
    """The `Shard` torchrun's variables describe; None when none of them is set (a plain, single process).

    Raises:
        ConfigError: naming the variables when only some are set or one is not an integer in range.
    """
    present = [name for name in LAUNCHER_VARIABLES if name in environ]
    if not present:
        return None
    missing = [name for name in LAUNCHER_VARIABLES if name not in environ]
    if missing:
        raise ConfigError(
            f"environment: {', '.join(present)} set but not {', '.join(missing)}; start the processes with "
            f"torchrun, which sets all of {', '.join(LAUNCHER_VARIABLES)}"
        )
    try:
        return Shard(int(environ["RANK"]), int(environ["WORLD_SIZE"]), int(environ["LOCAL_RANK"]))
    except ValueError:
        values = ", ".join(f"{name}={environ[name]!r}" for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
        raise ConfigError(
            f"environment: expected integers 0 <= RANK < WORLD_SIZE and LOCAL_RANK >= 0, got {values}"
        ) from None


@contextmanager
def process_group(device: str) -> Iterator[Shard]:
    """This process's `Shard`; launched by torchrun, also joined to its process group for the time of the block
    (rendezvous through the environment, ``env://``): backend gloo on CPU, nccl when `device` is a GPU (bound to
    this process's GPU, `Shard.device`). The group is destroyed when the block ends, however it ends.

    Raises:
        ConfigError: as `shard_from_environment`, or when this process's GPU does not exist.
    """
    shard = shard_from_environment()
    if shard is None:
        yield Shard()
        return
    target = torch.device(shard.device(device))
    options = {}
    if target.type == "cuda":
        if target.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {device!r}: process {shard.rank} (local rank {shard.local_rank}) needs {target}, but this "
                f"machine has {torch.cuda.device_count()} GPUs; start at most one process a GPU"
            )
        torch.cuda.set_device(target)
        options["device_id"] = target
    dist.init_process_group(
        "nccl" if target.type == "cuda" else "gloo",
        rank=shard.rank,
        world_size=shard.world_size,
        timeout=BARRIER_TIMEOUT,
        **options,
    )
    try:
        yield shard
    finally:
        dist.destroy_process_group()


def wait_for_all() -> None:
    """Block until every process of the group reaches this point; returns at once outside a group."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
