"""Precision and recall of a judged graph against a hand-labelled, closed-world set of dependencies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from magnet_core.graph.dependency_graph import DependencyGraph


def load_labels(path: str | Path) -> tuple[list[str], set[tuple[str, str]], dict[tuple[str, str], str]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    positives: dict[tuple[str, str], str] = {}
    for tool_class, sources in data["labels"].items():
        for source, kinds in sources.items():
            for kind, targets in kinds.items():
                for target in targets:
                    positives[(f"{tool_class}.{source}", f"{tool_class}.{target}")] = kind
    return list(data["classes"]), set(positives), positives


def score_graph(graph: DependencyGraph, labels_path: str | Path) -> dict[str, Any]:
    classes, positive_pairs, kinds = load_labels(labels_path)
    tool_class = {node: data.get("tool_class") for node, data in graph.graph.nodes(data=True)}
    predicted = {(s, t) for s, t in graph.graph.edges() if tool_class.get(s) in classes and tool_class.get(s) == tool_class.get(t)}
    true_positive = predicted & positive_pairs
    per_class = {}
    for name in classes:
        p = {e for e in predicted if tool_class[e[0]] == name}
        g = {e for e in positive_pairs if e[0].startswith(name + ".")}
        per_class[name] = {"predicted": len(p), "labelled": len(g), "correct": len(p & g)}
    kind_agree = sum(1 for pair in true_positive if graph.graph.edges[pair]["kind"] == kinds[pair])
    return {
        "precision": len(true_positive) / len(predicted) if predicted else 0.0,
        "recall": len(true_positive) / len(positive_pairs) if positive_pairs else 0.0,
        "predicted": len(predicted),
        "labelled": len(positive_pairs),
        "correct": len(true_positive),
        "kind_agreement": kind_agree / len(true_positive) if true_positive else 0.0,
        "per_class": per_class,
        "false_positives": sorted(predicted - positive_pairs),
        "false_negatives": sorted(positive_pairs - predicted),
    }
