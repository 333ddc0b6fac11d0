"""Dependency graph of a function pool, random walks over it, and node operations that make plans.

Entry points: `stage.build_graph(pool, GraphStageConfig, judge=None) -> DependencyGraph` and
`stage.sample_plans(graph, pool, PlanStageConfig) -> list[Plan]` (variants "P" and "P_prime").
"""

from magnet_core.graph.dependency_graph import DependencyGraph
from magnet_core.graph.edges import DependencyEdge, DependencyKind, EdgeEvidence
from magnet_core.graph.heuristic_judge import HeuristicJudge
from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig, build_graph, sample_plans, sample_plans_with_report

__all__ = [
    "DependencyEdge",
    "DependencyGraph",
    "DependencyKind",
    "EdgeEvidence",
    "GraphStageConfig",
    "HeuristicJudge",
    "PlanStageConfig",
    "build_graph",
    "sample_plans",
    "sample_plans_with_report",
]
