"""Finding experiment files by name, and which command runs each, without importing torch: the command lines look
an experiment up (and refuse an unknown name) before their heavy imports.

A name is looked up as `experiments/NAME.yaml` in the current directory, then in the repository's `experiments/`.
``*_train.yaml`` files are training experiments (for ``python -m videoanalyst.train``); the others describe a
tracker (for ``track``, ``evaluate --exp`` and the ``siamfcpp`` stage).
"""

from __future__ import annotations

from pathlib import Path

from videoanalyst.errors import ConfigError
from videoanalyst.pipeline.config import yaml_description

#: Where `--exp NAME` is looked up after the current directory's `experiments/`: the repository's own.
EXPERIMENTS_DIR = Path(__file__).resolve().parents[1] / "experiments"
#: The name ending of training experiments.
TRAINING_SUFFIX = "_train"

_COMMANDS = {True: "python -m videoanalyst.train", False: "python -m videoanalyst.track"}


def is_training_experiment(path: Path) -> bool:
    """Whether the experiment file at `path` trains a network (``*_train.yaml``) rather than describing a tracker."""
    return path.stem.endswith(TRAINING_SUFFIX)


def experiment_files(training: bool | None = None) -> dict[str, Path]:
    """{name: file} of the experiments found by name, the current directory's first; `training` True or False keeps
    the training or the tracking ones."""
    found: dict[str, Path] = {}
    for folder in (Path("experiments"), EXPERIMENTS_DIR):
        for path in sorted(folder.glob("*.yaml")):
            if training is None or is_training_experiment(path) == training:
                found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def find_experiment(name_or_path: str | Path, training: bool | None = None) -> Path:
    """An experiment file: a path, else `experiments/NAME.yaml` here, else in the repository's `experiments/`.

    Args:
        training: True for a command that trains, False for one that tracks: a NAME of the other kind is refused,
            naming the command that runs it; None accepts both.

    Raises:
        ConfigError: a missing file, or an unknown name (listing the names the command takes).
    """
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if not candidate.is_file():
            raise ConfigError(f"{candidate}: no such experiment file")
        return candidate
    path = experiment_files().get(str(name_or_path))
    known = ", ".join(experiment_files(training)) or "(none)"
    if path is None:
        raise ConfigError(f"unknown experiment {str(name_or_path)!r}; known: {known}")
    if training is not None and is_training_experiment(path) != training:
        kind = "a training experiment" if is_training_experiment(path) else "a tracking experiment"
        raise ConfigError(f"{name_or_path}: {kind}, for {_COMMANDS[not training]}; this command takes: {known}")
    return path


def experiment_descriptions(training: bool) -> dict[str, str]:
    """{name: its file's leading comment} of the experiments of that kind, for `--list`."""
    return {name: yaml_description(path) for name, path in experiment_files(training).items()}
