"""What a benchmark ran on, named the same way in every table: the CPU model and core count, the commit of
videoanalyst, and the versions of the dependencies that move fast and change numbers (torch, OpenCV, PyAV, ...).

``python evaluation/machine.py`` prints all three; CI prints them before its tests, so every CI log names the
versions it tested.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

#: Distributions whose releases change our numbers or break us: binary wheels with their own kernels.
TRACKED_DISTRIBUTIONS = (
    "torch", "torchvision", "opencv-python-headless", "av", "numba", "numpy", "scipy", "lap", "motmetrics",
)


def describe_machine() -> str:
    """'AMD EPYC, 2 cores': the CPU model from /proc/cpuinfo (Linux), else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    return f"{model}, {os.cpu_count()} cores"


def software_versions() -> dict[str, str]:
    """Python and each of `TRACKED_DISTRIBUTIONS` as installed ("absent" when it is not), from the package
    metadata, so nothing heavy is imported; PyAV's FFmpeg build is added when PyAV is installed."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    if versions["av"] != "absent":
        import av

        versions["ffmpeg (PyAV)"] = av.ffmpeg_version_info
    return versions


def commit() -> str:
    """The checkout's commit (short hash, ``+changes`` when the work tree differs from it outside the benchmarks' own
    result files), or "unknown"."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout

    try:
        head = git("rev-parse", "--short", "HEAD").strip()
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!evaluation/results").strip())
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+changes" if dirty else head


def describe_software() -> str:
    """'videoanalyst 1a2b3c4; python 3.11.7, torch 2.14.1, ...': one line for a table's header."""
    versions = ", ".join(f"{name} {version}" for name, version in software_versions().items())
    return f"videoanalyst {commit()}; {versions}"


def describe_run() -> dict[str, object]:
    """Machine, commit and versions, for a benchmark's JSON file."""
    return {"machine": describe_machine(), "commit": commit(), "versions": software_versions()}


if __name__ == "__main__":
    print(f"machine: {describe_machine()}", f"software: {describe_software()}", sep="\n", file=sys.stdout)
