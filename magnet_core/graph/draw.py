"""A picture of the dependency graph (or one tool class of it), for a person to check by eye.

Nodes are grouped by tool class in a ring of clusters so classes do not smear into each other; value
edges are drawn solid, premise edges dashed. Labels show bare function names (the class is the colour).
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx

from magnet_core.graph.dependency_graph import DependencyGraph

MAX_DRAWN_NODES = 400


def draw_graph(graph: DependencyGraph, path: str | Path, tool_class: str | None = None, title: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nodes = [n for n, d in graph.graph.nodes(data=True) if tool_class is None or d.get("tool_class") == tool_class]
    if not nodes:
        raise ValueError(f"no nodes to draw (class {tool_class!r})")
    if len(nodes) > MAX_DRAWN_NODES:
        raise ValueError(f"{len(nodes)} nodes are too many to read in one picture; draw one tool class")
    sub = graph.graph.subgraph(nodes)
    classes = sorted({sub.nodes[n].get("tool_class") or "(none)" for n in sub})
    positions = _clustered_layout(sub, classes)
    colours = plt.get_cmap("tab10")
    size = 10 if len(classes) == 1 else 18
    figure, axes = plt.subplots(figsize=(size, size))
    for index, name in enumerate(classes):
        members = [n for n in sub if (sub.nodes[n].get("tool_class") or "(none)") == name]
        nx.draw_networkx_nodes(sub, positions, nodelist=members, node_color=[colours(index % 10)], node_size=260, alpha=0.9, ax=axes, label=name)
    for kind, style, colour in (("value", "solid", "#333333"), ("premise", "dashed", "#c0392b")):
        edges = [(s, t) for s, t, d in sub.edges(data=True) if d["kind"] == kind]
        nx.draw_networkx_edges(sub, positions, edgelist=edges, style=style, edge_color=colour, alpha=0.45, arrowsize=9, width=0.8, ax=axes,
                               connectionstyle="arc3,rad=0.08", node_size=260)
    labels = {n: sub.nodes[n].get("name") or n.rsplit(".", 1)[-1] for n in sub}
    nx.draw_networkx_labels(sub, positions, labels=labels, font_size=7 if len(sub) > 60 else 9, ax=axes)
    offline = " [offline heuristic judge]" if graph.metadata.get("offline") else ""
    axes.set_title((title or f"Dependency graph {tool_class or ''}".strip()) + f": {sub.number_of_nodes()} functions, {sub.number_of_edges()} edges"
                   f" (solid = value, dashed = premise){offline}")
    axes.legend(loc="upper left", fontsize=9)
    axes.axis("off")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def _clustered_layout(sub: nx.DiGraph, classes: list[str]) -> dict[str, tuple[float, float]]:
    positions: dict[str, tuple[float, float]] = {}
    radius = 0.0 if len(classes) == 1 else max(3.0, 0.65 * len(classes))
    for index, name in enumerate(classes):
        members = sorted(n for n in sub if (sub.nodes[n].get("tool_class") or "(none)") == name)
        local = nx.circular_layout(sorted(members)) if len(members) > 1 else {members[0]: (0.0, 0.0)}
        angle = 2 * math.pi * index / max(1, len(classes))
        cx, cy = radius * math.cos(angle), radius * math.sin(angle)
        for node, (x, y) in local.items():
            positions[node] = (cx + float(x), cy + float(y))
    return positions
