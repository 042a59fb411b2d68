"""Experiments: one flat YAML file per published model in `experiments/`, naming the network, the tracker's
hyper-parameters and the weights file; this module reads one and builds the tracker it describes.

A file has three blocks: `model` (`type` = a builder in `MODEL_BUILDERS`, the rest its arguments), `tracker`
(the arguments of `SiamFCppTracker`) and `weights` (the fields of `WeightsFile`, plus `demo`: the packaged weights
used when the official file is absent).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videoanalyst.errors import ConfigError
from videoanalyst.experiment_files import find_experiment
from videoanalyst.models.siamfcpp.checkpoint import load_checkpoint
from videoanalyst.models.siamfcpp.network import SiamFCpp, siamfcpp_alexnet, siamfcpp_googlenet
from videoanalyst.models.weights import WeightsFile, find_weights, md5_in_name, user_weights, verify_md5
from videoanalyst.pipeline.config import (
    check_arguments,
    constructor_parameters,
    parse_overrides,
    read_yaml_mapping,
    suggest,
)
from videoanalyst.trackers.siamfcpp_tracker import SiamFCppTracker

#: `model.type` -> the builder it calls.
MODEL_BUILDERS = {"siamfcpp_alexnet": siamfcpp_alexnet, "siamfcpp_googlenet": siamfcpp_googlenet}

#: Weights shipped inside the package (the demo weights).
PACKAGED_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

_BLOCKS = ("model", "tracker", "weights")
#: `SiamFCppTracker` arguments the experiment does not set: the loaded network and the device.
_TRACKER_INJECTED = ("network", "device")


@dataclass(frozen=True)
class Experiment:
    """A parsed experiment file: which network, with which tracker settings, from which weights."""

    name: str
    path: Path
    model_type: str
    model_kwargs: dict[str, Any]
    tracker_kwargs: dict[str, Any]
    weights: WeightsFile
    demo: str | None

    def build_network(self) -> SiamFCpp:
        """The network with its initial (untrained) weights."""
        return MODEL_BUILDERS[self.model_type](**self.model_kwargs)

    def weights_path(self, explicit: str | Path | None = None) -> tuple[Path, str | None]:
        """The weights to load and, when they are the demo weights, a one-line notice saying so.

        Order: the file the user named; the official file in the cache; the packaged demo weights. With none of
        them the error says where the official file goes and where to get it.
        """
        if explicit is not None:
            return user_weights(explicit), None
        cached = find_weights(self.weights)
        if cached is not None:
            return cached, None
        if self.demo is None:
            raise ConfigError(f"{self.name}: {self.weights.absent_message()}")
        notice = (
            f"notice: {self.name}: using the built-in demo weights, trained on synthetic scenes only; for real "
            f"video {self.weights.absent_message()}"
        )
        return demo_weights(self.demo), notice

    def build_tracker(
        self, weights: str | Path | None = None, device: str | torch.device = "cpu", quiet: bool = False
    ) -> tuple[SiamFCppTracker, Path]:
        """The tracker with its network loaded and on `device`, and the weights file used."""
        path, notice = self.weights_path(weights)
        if notice and not quiet:
            print(notice, file=sys.stderr)
        network = self.build_network()
        model_name = self.model_type if self.name == self.model_type else f"{self.model_type} ({self.name})"
        load_checkpoint(network, path, model_name=model_name)
        network = network.eval().to(device)
        return SiamFCppTracker(network, device=device, **self.tracker_kwargs), path


def load_experiment(name_or_path: str | Path, overrides: list[str] | Mapping[str, Any] = ()) -> Experiment:
    """Read and check an experiment file; every error names the file and the key.

    Args:
        overrides: settings changed from the file, ``BLOCK.KEY=value`` items (``tracker.exact=true``; values read
            as YAML) or a mapping {"tracker.exact": True}; an unknown one is refused, naming the command line.
    """
    path = find_experiment(name_or_path, training=False)
    raw = read_yaml_mapping(path, "experiment", f"a mapping with keys {', '.join(_BLOCKS)}")
    for key in raw:
        if key not in _BLOCKS:
            raise ConfigError(f"{path}: unknown key {key!r}; allowed: {', '.join(_BLOCKS)}")
    blocks = {key: raw.get(key) or {} for key in _BLOCKS}
    for key, block in blocks.items():
        if not isinstance(block, dict):
            raise ConfigError(f"{path}: {key}: expected a mapping, got {block!r}")
    changed = _apply_overrides(blocks, parse_overrides(overrides, "command line"))
    model = dict(blocks["model"])
    model_type = model.pop("type", None)
    if model_type not in MODEL_BUILDERS:
        raise ConfigError(f"{path}: model.type: expected one of {', '.join(MODEL_BUILDERS)}, got {model_type!r}")
    _check_override_keys(changed, {
        "model": ["type", *constructor_parameters(MODEL_BUILDERS[model_type])],
        "tracker": [name for name in constructor_parameters(SiamFCppTracker) if name not in _TRACKER_INJECTED],
        "weights": ["demo", *constructor_parameters(WeightsFile)],
    })
    model = check_arguments(MODEL_BUILDERS[model_type], model, f"{path}: model", model_type)
    tracker = check_arguments(
        SiamFCppTracker, blocks["tracker"], f"{path}: tracker", "SiamFCppTracker", injected=_TRACKER_INJECTED
    )
    weights = dict(blocks["weights"])
    demo = weights.pop("demo", None)
    weights = check_arguments(WeightsFile, weights, f"{path}: weights", "weights")
    return Experiment(path.stem, path, model_type, model, tracker, WeightsFile(**weights), demo)


def _apply_overrides(blocks: dict[str, dict[str, Any]], overrides: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Set each ``BLOCK.KEY`` override in `blocks` (copied, not the file's mappings); the (block, key) pairs set."""
    changed = []
    for dotted, value in overrides:
        block, _, key = dotted.partition(".")
        if block not in _BLOCKS or not key or "." in key:
            raise ConfigError(f"command line: {dotted!r}: expected BLOCK.KEY=value with BLOCK one of "
                              f"{', '.join(_BLOCKS)}{suggest(block, list(_BLOCKS))}")
        blocks[block] = {**blocks[block], key: value}
        changed.append((block, key))
    return changed


def _check_override_keys(changed: list[tuple[str, str]], allowed: dict[str, list[str]]) -> None:
    """Refuse an override of a setting the block does not have, naming the command line (not the file)."""
    for block, key in changed:
        if key not in allowed[block]:
            raise ConfigError(f"command line: {block}.{key}: {block} has no setting {key!r}"
                              f"{suggest(key, allowed[block])}; allowed: {', '.join(allowed[block])}")


def demo_weights(name: str) -> Path:
    """The packaged weights file `<name>-md5_<hash>.pt`, md5-checked."""
    matches = sorted(PACKAGED_WEIGHTS_DIR.glob(f"{name}-md5_*.pt"))
    if not matches:
        raise ConfigError(f"no packaged weights named {name!r} in {PACKAGED_WEIGHTS_DIR}")
    verify_md5(matches[0], md5_in_name(matches[0].name))
    return matches[0]
