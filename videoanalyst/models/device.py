"""Which torch device a `device` setting names, checked the same way by every command line, stage and trainer.

The words are the same everywhere: ``auto`` (CUDA when torch sees a GPU, else the CPU), ``cpu``, ``cuda`` and
``cuda:N``. `check_device_name` reads them without importing torch, so a command line refuses a misspelt name
before its heavy imports; `pick_device` also asks torch whether the GPU named is there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from videoanalyst.errors import ConfigError

if TYPE_CHECKING:
    import torch

#: The device names every `device` setting takes, for messages and help texts.
DEVICE_NAMES = "auto, cpu, cuda or cuda:N"
_DEVICE_NAME = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device_name(name: object, where: str) -> str:
    """`name` if it is one of `DEVICE_NAMES` (no GPU is looked for, torch is not imported).

    Raises:
        ConfigError: naming `where` (the option or key the name was given in) and the names allowed.
    """
    if not isinstance(name, str) or not _DEVICE_NAME.fullmatch(name):
        raise ConfigError(f"{where}: expected a device, {DEVICE_NAMES}; got {name!r}")
    return name


def pick_device(name: str, where: str) -> torch.device:
    """The device `name` stands for: ``auto`` is CUDA when torch sees a GPU, else the CPU.

    Raises:
        ConfigError: naming `where` for a name not in `DEVICE_NAMES`, or a GPU asked for that torch does not see.
    """
    import torch

    check_device_name(name, where)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{where}: {name!r} asks for a CUDA GPU, but torch sees none on this machine; "
                              "use auto or cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"{where}: {name!r} asks for GPU {device.index}, but torch sees "
                              f"{torch.cuda.device_count()} GPU(s) on this machine, numbered from 0")
    return device
