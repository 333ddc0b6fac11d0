"""PNG plots for the dataset card, drawn on bare `Figure`s (Agg canvas): no display, no pyplot global state.

The numbers come from `stats.Figures`, gathered while the SFT table was written: drawing reads no sample.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from magnet_core.dataset.stats import Figures

PLOTS = {
    "turns_per_sample": "plots/turns_per_sample.png",
    "calls_per_turn": "plots/calls_per_turn.png",
    "category_mix": "plots/category_mix.png",
    "node_operation_mix": "plots/node_operation_mix.png",
}


def _figure():
    """A bare Figure; matplotlib is imported here, not at module import (it is ~1 s of every CLI start)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(5, 3.2), dpi=100)


def _histogram(values: list[int], title: str, xlabel: str, path: Path) -> None:
    figure = _figure()
    axes = figure.subplots()
    if values:
        edges = [x - 0.5 for x in range(min(values), max(values) + 2)]
        axes.hist(values, bins=edges, color="#4c72b0", edgecolor="white")
    else:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("count")
    figure.tight_layout()
    figure.savefig(path, format="png", metadata={"Software": None})


def _bars(counts: Counter, title: str, path: Path) -> None:
    figure = _figure()
    axes = figure.subplots()
    names = sorted(counts)
    if names:
        axes.bar(names, [counts[name] for name in names], color="#55a868")
        axes.tick_params(axis="x", labelrotation=30)
    else:
        axes.text(0.5, 0.5, "none", ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title)
    axes.set_ylabel("count")
    figure.tight_layout()
    figure.savefig(path, format="png", metadata={"Software": None})


def write_plots(directory: Path, figures: Figures) -> dict[str, str]:
    (directory / "plots").mkdir(parents=True, exist_ok=True)
    _histogram(figures.turns, "Turns per sample", "user turns", directory / PLOTS["turns_per_sample"])
    _histogram(figures.calls_per_turn, "Calls per turn", "function calls", directory / PLOTS["calls_per_turn"])
    _bars(figures.categories, "Category mix (SFT)", directory / PLOTS["category_mix"])
    _bars(figures.node_operations, "Node operations (SFT)", directory / PLOTS["node_operation_mix"])
    return dict(PLOTS)
