"""Which torch device a `device:` setting names, checked once for every stage and trainer."""

from __future__ import annotations

import torch

from videoanalyst.errors import ConfigError


def pick_device(name: str, owner: str) -> torch.device:
    """"auto": CUDA when available, else the CPU; any other name as torch reads it ("cpu", "cuda", "cuda:1").

    Raises:
        ConfigError: naming `owner` (the stage or trainer) for a name torch does not know, or CUDA asked for on a
            machine without it.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"{owner}: device {name!r} is not a torch device; expected auto, cpu, cuda or cuda:<n>") \
            from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{owner}: device {name!r} asked for, but torch sees no CUDA GPU on this machine; "
                          "use auto or cpu")
    return device
