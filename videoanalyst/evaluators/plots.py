"""How evaluator scores are shown: curve plots of several trackers as PNG (success, precision) and aligned text
tables. Plots follow the look of the official ones (got10k ``ExperimentOTB.plot_curves``): one line per tracker,
best first, the legend naming each tracker with its score as ``name: [0.xxx]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

#: Line styles, each used for 10 trackers (the colour cycle's length) before the next, as the official plots do.
LINE_STYLES = ("-", "--", "-.")


def plot_curves(
    path: Path,
    thresholds: np.ndarray,
    curves: dict[str, np.ndarray],
    scores: dict[str, float],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    dpi: int = 200,
) -> Path:
    """Write one PNG with a curve per tracker over `thresholds`, trackers sorted by score (best first) and the
    legend ``name: [score]`` outside the axes on the right. Uses matplotlib's Agg canvas, no pyplot state.

    Args:
        curves: {tracker: values at `thresholds`}.
        scores: {tracker: the number shown in the legend}, also the sort key.
        dpi: output resolution; the official plots use 300.
    """
    figure = Figure()
    axes = figure.subplots()
    for i, name in enumerate(sorted(curves, key=lambda n: -scores[n])):
        axes.plot(
            thresholds, curves[name], LINE_STYLES[i // 10 % len(LINE_STYLES)], label=f"{name}: [{scores[name]:.3f}]"
        )
    legend = axes.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=7.4)
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(thresholds[0], thresholds[-1]), ylim=(0, 1))
    axes.grid(True)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_extra_artists=(legend,), bbox_inches="tight", dpi=dpi)
    return path


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """Cells in aligned columns, the first left-aligned, the others right-aligned, a rule under the header."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
        for line in [header, *rows]
    ]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])
