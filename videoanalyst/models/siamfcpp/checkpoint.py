"""Load SiamFC++ weights: video_analyst's official checkpoint files as they are, and our own.

The official `.pkl` files are plain `torch.save`d state dicts (trainer snapshots wrap one under
`model_state_dict`); their key names are video_analyst's module names, which `official_to_ours` maps onto ours.
The layouts are listed in tests/models/data/alexnet_keys.txt and googlenet_keys.txt.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from videoanalyst.errors import InputError
from videoanalyst.models.weights import load_error_reason

#: video_analyst name prefix -> ours.
_PREFIXES = (
    ("basemodel.", "backbone."),
    ("head.cls_score_p5.", "head.cls_score."),
    ("head.ctr_score_p5.", "head.ctr_score."),
    ("head.bbox_offsets_p5.", "head.box_offsets."),
    ("head.si", "head.offset_scale"),
    ("head.bi", "head.offset_bias"),
    ("c_z_k.", "template_cls."),
    ("r_z_k.", "template_reg."),
    ("c_x.", "search_cls."),
    ("r_x.", "search_reg."),
)
#: The towers: video_analyst numbers their convolutions from 1 (`head.cls_p5_conv1.`), we from 0.
_OFFICIAL_TOWER = re.compile(r"^head\.(cls|bbox)_p5_conv(\d+)\.")
_OUR_TOWER = re.compile(r"^head\.(cls|reg)_tower\.(\d+)\.")

_SHOWN = 6


def official_to_ours(key: str) -> str:
    """Our name for a video_analyst state-dict key; other keys (ours already) pass unchanged."""
    match = _OFFICIAL_TOWER.match(key)
    if match:
        tower = "cls" if match.group(1) == "cls" else "reg"
        return f"head.{tower}_tower.{int(match.group(2)) - 1}." + key[match.end() :]
    return _swap_prefix(key, _PREFIXES)


def ours_to_official(key: str) -> str:
    """video_analyst's name for one of our keys (the inverse of `official_to_ours`), to write checkpoints that
    video_analyst itself loads."""
    match = _OUR_TOWER.match(key)
    if match:
        tower = "cls" if match.group(1) == "cls" else "bbox"
        return f"head.{tower}_p5_conv{int(match.group(2)) + 1}." + key[match.end() :]
    return _swap_prefix(key, tuple((ours, official) for official, ours in _PREFIXES))


def _swap_prefix(key: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        if key == old or (old.endswith(".") and key.startswith(old)):
            return new + key[len(old) :]
    return key


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file, unwrapped (`model_state_dict`, `state_dict`, DataParallel's `module.`)
    and renamed to our keys. Loads with `weights_only=True`: a file that needs arbitrary code is refused."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint file")
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of foreign files before refusing them
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises pickle, zip and runtime errors for damaged or foreign files
        raise InputError(f"{path}: {load_error_reason(error)}") from None
    for wrapper in ("model_state_dict", "state_dict", "model", "network"):  # video_analyst, common, ours
        if isinstance(raw, Mapping) and isinstance(raw.get(wrapper), Mapping):
            raw = raw[wrapper]
    if not isinstance(raw, Mapping) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise InputError(f"{path}: expected a state dict (names -> tensors), found {type(raw).__name__}")
    return {official_to_ours(key.removeprefix("module.")): value for key, value in raw.items()}


def load_checkpoint(model: nn.Module, path: str | Path, model_name: str = "the model") -> None:
    """Load a checkpoint into `model`, official or ours, fp32 or fp16 (cast to the model's dtype).

    A checkpoint of another model is refused with one message that lists what is missing, what is unexpected
    and which shapes differ, instead of loading part of it; so is one holding NaN or infinite values.
    """
    state = read_state_dict(path)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or mismatched:
        problems = [
            f"{label} ({len(items)}): {text}"
            for label, items, text in (
                ("missing", missing, _modules(missing)),
                ("unexpected", unexpected, _modules(unexpected)),
                ("shape differs", mismatched, _first(mismatched)),
            )
            if items
        ]
        raise InputError(f"{path}: not a checkpoint of {model_name}; " + "; ".join(problems))
    broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise InputError(f"{path}: {len(broken)} tensor(s) hold NaN or infinite values, e.g. {_first(broken)}; "
                         f"the file is damaged or was saved in a dtype too small for its values")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})


def _modules(keys: list[str]) -> str:
    """Keys summarised by their module (`backbone.conv1`, `head.cls_tower.2`), in order, the first few."""
    modules = list(dict.fromkeys(".".join(key.split(".")[: 3 if "_tower." in key else 2]) for key in keys))
    return _first(modules)


def _first(items: list[str]) -> str:
    return ", ".join(items[:_SHOWN]) + (", ..." if len(items) > _SHOWN else "")
