"""Where weight files live and how they are checked: the cache folder, md5 hashes, the message when one is absent.

Nothing is downloaded implicitly. The official SiamFC++ files sit behind a Google Drive folder (no direct file
URL), so the message names the page and the exact path to put the file at.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from videoanalyst.errors import InputError

_MD5_IN_NAME = re.compile(r"md5_([0-9a-f]{32})")
_SHA256_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")
#: Key endings of batch-norm statistics, which `export_half` keeps in fp32.
_BATCH_NORM_STATISTICS = ("running_mean", "running_var")


@dataclass(frozen=True)
class WeightsFile:
    """A published weights file.

    Args:
        file: its file name (the official names carry the md5: `...-md5_<32 hex>.pkl`).
        md5: its md5, checked before loading; None to take it from the file name, if there.
        url: where to download it (a model-zoo page when there is no direct link).
        folder: sub-folder of the weights cache it is looked up in.
    """

    file: str
    md5: str | None = None
    url: str | None = None
    folder: str = ""

    @property
    def expected_md5(self) -> str | None:
        return self.md5 or md5_in_name(self.file)

    @property
    def cached_path(self) -> Path:
        """Where the file is looked for: `<weights cache>/<folder>/<file>`."""
        return weights_cache() / self.folder / self.file

    def absent_message(self) -> str:
        """What to do when the file is not in the cache."""
        where = f" (download it from {self.url})" if self.url else ""
        return f"weights file {self.file} not found: put it at {self.cached_path}{where}, or pass its path"


def load_error_reason(error: Exception) -> str:
    """Why torch could not read a file, without torch's advice to load it with ``weights_only=False`` (which runs
    whatever code the file holds)."""
    detail = str(error).partition("WeightsUnpickler error:")[2] or str(error)
    lines = [line.strip() for line in detail.splitlines() if line.strip() and "weights_only" not in line]
    reason = lines[0] if lines else type(error).__name__
    if reason.startswith("Unsupported global: GLOBAL "):
        name = reason.removeprefix("Unsupported global: GLOBAL ").split()[0]
        return (f"not a checkpoint of tensors alone: it holds the Python object {name}; a weights file is a state "
                "dict, saved by `torch.save(model.state_dict(), file)`")
    return f"not a PyTorch checkpoint, or a damaged one ({reason})"


def weights_cache() -> Path:
    """The weights cache: $VIDEOANALYST_WEIGHTS, else $XDG_CACHE_HOME/videoanalyst/weights (~/.cache/...)."""
    if os.environ.get("VIDEOANALYST_WEIGHTS"):
        return Path(os.environ["VIDEOANALYST_WEIGHTS"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "videoanalyst" / "weights"


def md5_in_name(name: str) -> str | None:
    """The md5 an official file name carries (`...-md5_<32 hex>.<ext>`), or None."""
    match = _MD5_IN_NAME.search(name)
    return match.group(1) if match else None


def file_md5(path: Path) -> str:
    """The md5 of a file, read in 1 MiB blocks."""
    return _file_digest(path, "md5")


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    return _file_digest(path, "sha256")


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify_md5(path: Path, expected: str | None) -> None:
    """Refuse a file whose md5 is not `expected` (a partial download, another version); None checks nothing."""
    if expected is None:
        return
    actual = file_md5(path)
    if actual != expected:
        raise InputError(
            f"{path}: md5 {actual} does not match the expected {expected}; the file is damaged or another "
            "version: download it again"
        )


def sha256_prefix_in_name(name: str) -> str | None:
    """The sha256 prefix a torch.hub file name carries (`resnet50-0676ba61.pth`: its last `-<8+ hex>` before the
    suffix), or None."""
    match = _SHA256_IN_NAME.search(name)
    return match.group(1) if match else None


def verify_sha256_prefix(path: Path, prefix: str | None) -> None:
    """Refuse a file whose sha256 does not start with `prefix`, as torch.hub checks its downloads; None checks
    nothing."""
    if prefix is None:
        return
    actual = file_sha256(path)
    if not actual.startswith(prefix):
        raise InputError(
            f"{path}: sha256 {actual[:len(prefix)]}... does not start with the {prefix} its name carries; the file "
            "is damaged or another version: download it again"
        )


def find_weights(spec: WeightsFile) -> Path | None:
    """The cached file, md5-checked, or None when it is not there."""
    path = spec.cached_path
    if not path.is_file():
        return None
    verify_md5(path, spec.expected_md5)
    return path


def user_weights(path: str | Path) -> Path:
    """A weights file the user named: it must exist, and match the md5 its name carries, if any."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such weights file")
    verify_md5(path, md5_in_name(path.name))
    return path


def export_half(state_dict_file: str | Path, folder: str | Path, stem: str) -> Path:
    """Save a checkpoint to `folder/<stem>-md5_<md5>.pt` with its weights as fp16 (half the size; loading casts
    back to the model's dtype) and return the path. This is how the packaged demo weights are made.

    Batch-norm statistics stay fp32: on unnormalised 0-255 input a feature's running variance can pass fp16's
    largest number (65504) and would turn to inf, which zeroes that feature at inference. A weight that does not
    fit fp16 is refused, naming its key.
    """
    import torch

    from videoanalyst.models.siamfcpp.checkpoint import read_state_dict

    state = {}
    for key, value in read_state_dict(state_dict_file).items():
        if value.is_floating_point() and not key.endswith(_BATCH_NORM_STATISTICS):
            value = value.half()
            if not torch.isfinite(value).all():
                raise ValueError(f"{state_dict_file}: {key} has values beyond fp16's range (65504); keep it fp32")
        state[key] = value
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f"{stem}.partial"
    torch.save(state, staging)
    path = folder / f"{stem}-md5_{file_md5(staging)}.pt"
    staging.replace(path)
    return path
