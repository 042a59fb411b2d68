"""The machine a benchmark ran on, named the same way in every table: CPU model and core count."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe_machine() -> str:
    """'AMD EPYC, 2 cores': the CPU model from /proc/cpuinfo (Linux), else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    return f"{model}, {os.cpu_count()} cores"
