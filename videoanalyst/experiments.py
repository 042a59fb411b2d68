"""Experiments: one flat YAML file per published model in `experiments/`, naming the network, the tracker's
hyper-parameters and the weights file; this module reads one and builds the tracker it describes.

A file has three blocks: `model` (`type` = a builder in `MODEL_BUILDERS`, the rest its arguments), `tracker`
(the arguments of `SiamFCppTracker`) and `weights` (the fields of `WeightsFile`, plus `demo`: the packaged weights
used when the official file is absent).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videoanalyst.errors import ConfigError
from videoanalyst.models.siamfcpp.checkpoint import load_checkpoint
from videoanalyst.models.siamfcpp.network import SiamFCpp, siamfcpp_alexnet, siamfcpp_googlenet
from videoanalyst.models.weights import WeightsFile, find_weights, md5_in_name, user_weights, verify_md5
from videoanalyst.pipeline.config import check_arguments, read_yaml_mapping
from videoanalyst.trackers.siamfcpp_tracker import SiamFCppTracker

#: `model.type` -> the builder it calls.
MODEL_BUILDERS = {"siamfcpp_alexnet": siamfcpp_alexnet, "siamfcpp_googlenet": siamfcpp_googlenet}

#: Where `--exp NAME` is looked up after the current directory's `experiments/`: the repository's own.
EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments"
#: Weights shipped inside the package (the demo weights).
PACKAGED_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

_BLOCKS = ("model", "tracker", "weights")


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
        load_checkpoint(network, path, model_name=f"{self.model_type} ({self.name})")
        network = network.eval().to(device)
        return SiamFCppTracker(network, device=device, **self.tracker_kwargs), path


def find_experiment(name_or_path: str | Path) -> Path:
    """An experiment file: a path, else `experiments/NAME.yaml` here, else in the repository's `experiments/`."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if not candidate.is_file():
            raise ConfigError(f"{candidate}: no such experiment file")
        return candidate
    for folder in (Path("experiments"), EXPERIMENTS_DIR):
        path = folder / f"{name_or_path}.yaml"
        if path.is_file():
            return path
    known = sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml"))
    raise ConfigError(f"unknown experiment {str(name_or_path)!r}; known: {', '.join(known) or '(none)'}")


def load_experiment(name_or_path: str | Path) -> Experiment:
    """Read and check an experiment file; every error names the file and the key."""
    path = find_experiment(name_or_path)
    raw = read_yaml_mapping(path, "experiment", f"a mapping with keys {', '.join(_BLOCKS)}")
    for key in raw:
        if key not in _BLOCKS:
            raise ConfigError(f"{path}: unknown key {key!r}; allowed: {', '.join(_BLOCKS)}")
    blocks = {key: raw.get(key) or {} for key in _BLOCKS}
    for key, block in blocks.items():
        if not isinstance(block, dict):
            raise ConfigError(f"{path}: {key}: expected a mapping, got {block!r}")
    model = dict(blocks["model"])
    model_type = model.pop("type", None)
    if model_type not in MODEL_BUILDERS:
        raise ConfigError(f"{path}: model.type: expected one of {', '.join(MODEL_BUILDERS)}, got {model_type!r}")
    model = check_arguments(MODEL_BUILDERS[model_type], model, f"{path}: model", model_type)
    tracker = check_arguments(
        SiamFCppTracker, blocks["tracker"], f"{path}: tracker", "SiamFCppTracker", injected=("network", "device")
    )
    weights = dict(blocks["weights"])
    demo = weights.pop("demo", None)
    weights = check_arguments(WeightsFile, weights, f"{path}: weights", "weights")
    return Experiment(path.stem, path, model_type, model, tracker, WeightsFile(**weights), demo)


def demo_weights(name: str) -> Path:
    """The packaged weights file `<name>-md5_<hash>.pt`, md5-checked."""
    matches = sorted(PACKAGED_WEIGHTS_DIR.glob(f"{name}-md5_*.pt"))
    if not matches:
        raise ConfigError(f"no packaged weights named {name!r} in {PACKAGED_WEIGHTS_DIR}")
    verify_md5(matches[0], md5_in_name(matches[0].name))
    return matches[0]
