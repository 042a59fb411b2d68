"""The EAO-curve plot of the VOT supervised evaluation as PNG: one curve a tracker over sequence length, the EAO
interval shaded, the legend naming each tracker with its EAO as ``name: [0.xxx]``, best first."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from videoanalyst.evaluators.plots import LINE_STYLES


def plot_eao_curves(
    path: Path, curves: dict[str, np.ndarray], scores: dict[str, float], interval: tuple[int, int], *, dpi: int = 200
) -> Path:
    """Write one PNG with each tracker's expected average overlap against sequence length (Agg canvas, no pyplot
    state), trackers sorted by EAO (a missing EAO, NaN, last).

    Args:
        curves: {tracker: EAO at lengths 0, 1, ...}; curves may differ in length.
        scores: {tracker: EAO over `interval`}, shown in the legend.
        interval: (low, high) lengths the EAO averages over, shaded.
        dpi: output resolution.
    """
    figure = Figure()
    axes = figure.subplots()
    axes.axvspan(*interval, color="0.9", label=f"EAO interval {interval[0]}..{interval[1]}")
    order = sorted(curves, key=lambda name: -scores[name] if not math.isnan(scores[name]) else math.inf)
    for i, name in enumerate(order):
        shown = "-" if math.isnan(scores[name]) else f"{scores[name]:.3f}"
        axes.plot(
            np.arange(len(curves[name])),
            curves[name],
            LINE_STYLES[i // 10 % len(LINE_STYLES)],
            label=f"{name}: [{shown}]",
        )
    legend = axes.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=7.4)
    longest = max(max(len(c) for c in curves.values()), interval[1] + 1)
    axes.set(
        xlabel="Sequence length (frames)",
        ylabel="Expected average overlap",
        title="Expected average overlap",
        xlim=(0, longest - 1),
        ylim=(0, 1),
    )
    axes.grid(True)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_extra_artists=(legend,), bbox_inches="tight", dpi=dpi)
    return path
