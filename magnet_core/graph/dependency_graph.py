"""The dependency graph: a networkx DiGraph of `Class.function` nodes, saved losslessly as node-link JSON.

Edge attributes hold the judged edge whole (kind, evidence, score, judge), so a reloaded graph answers
every question the judged one did, including the insert operation's "which output feeds which parameter".
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx

from magnet_core.graph.edges import DependencyEdge, DependencyKind

FORMAT_VERSION = 1


class DependencyGraph:
    def __init__(self, graph: nx.DiGraph, metadata: dict[str, Any] | None = None):
        self.graph = graph
        self.metadata = dict(metadata or {})
        self.rejects: list = []  # judge failures (Reject records) of the build; not part of the saved graph

    @classmethod
    def from_edges(cls, nodes: list[tuple[str, dict[str, Any]]], edges: list[DependencyEdge], metadata: dict[str, Any] | None = None) -> "DependencyGraph":
        graph = nx.DiGraph()
        graph.add_nodes_from(nodes)
        for edge in edges:
            graph.add_edge(edge.source, edge.target, **_edge_attributes(edge))
        return cls(graph, metadata)

    # --- queries -------------------------------------------------------------------------------
    def edge(self, source: str, target: str) -> DependencyEdge:
        data = self.graph.edges[source, target]
        return DependencyEdge(source=source, target=target, kind=data["kind"], evidence=tuple(data["evidence"]), score=data["score"], judge=data["judge"])

    def edges(self) -> list[DependencyEdge]:
        return [self.edge(source, target) for source, target in sorted(self.graph.edges())]

    def successors(self, node: str) -> list[str]:
        return sorted(self.graph.successors(node))

    def nested_feeds(self, source: str, target: str) -> list[tuple[str, str]]:
        """(output field of `source`, parameter of `target`) pairs backed by value evidence; [] if none."""
        if not self.graph.has_edge(source, target):
            return []
        return [
            (item["output_field"], item["parameter"])
            for item in self.graph.edges[source, target]["evidence"]
            if item["kind"] == DependencyKind.VALUE.value
        ]

    # --- persistence -----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        data = nx.node_link_data(self.graph, edges="edges")
        data["edges"].sort(key=lambda e: (e["source"], e["target"]))
        data["nodes"].sort(key=lambda n: n["id"])
        return {"format_version": FORMAT_VERSION, "metadata": self.metadata, "graph": data}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "DependencyGraph":
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        if payload.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported graph format {payload.get('format_version')!r}")
        graph = nx.node_link_graph(payload["graph"], directed=True, multigraph=False, edges="edges")
        for source, target, data in graph.edges(data=True):  # validate: a hand-edited file fails loudly
            DependencyEdge(source=source, target=target, kind=data["kind"], evidence=tuple(data["evidence"]), score=data["score"], judge=data["judge"])
        return cls(graph, payload.get("metadata"))

    # --- summary ---------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        graph = self.graph
        out_degrees = [degree for _, degree in graph.out_degree()]
        in_degrees = [degree for _, degree in graph.in_degree()]
        kinds = Counter(data["kind"] for _, _, data in graph.edges(data=True))
        judges = Counter(data["judge"] for _, _, data in graph.edges(data=True))
        isolated = sorted(nx.isolates(graph))
        classes = Counter(data.get("tool_class") or "(none)" for _, data in graph.nodes(data=True))
        cross = sum(1 for s, t in graph.edges() if graph.nodes[s].get("tool_class") != graph.nodes[t].get("tool_class"))
        return {
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "edges_per_kind": dict(sorted(kinds.items())),
            "edges_per_judge": dict(sorted(judges.items())),
            "cross_class_edges": cross,
            "out_degree_histogram": _histogram(out_degrees),
            "in_degree_histogram": _histogram(in_degrees),
            "mean_out_degree": round(sum(out_degrees) / len(out_degrees), 3) if out_degrees else 0.0,
            "max_out_degree": max(out_degrees, default=0),
            "dead_ends": sum(1 for degree in out_degrees if degree == 0),
            "isolated_count": len(isolated),
            "isolated": isolated[:200],
            "nodes_per_class": dict(sorted(classes.items())),
            "metadata": self.metadata,
        }


def _edge_attributes(edge: DependencyEdge) -> dict[str, Any]:
    return {
        "kind": edge.kind.value,
        "evidence": [item.model_dump(mode="json") for item in edge.evidence],
        "score": edge.score,
        "judge": edge.judge,
    }


def _histogram(values: list[int]) -> dict[str, int]:
    counts = Counter(values)
    return {str(degree): counts[degree] for degree in sorted(counts)}
