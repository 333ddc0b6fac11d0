"""The graph and plan stages: pool -> dependency graph -> plans P and P'.

Pure functions of their inputs plus a seed (the Prefect wrapping lives in `tasks/`). `build_graph`
judges each function against its candidate neighbours; `sample_plans` walks the graph from every
function and applies merge, insert (-> P) and split (-> P').
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from magnet_core.domain.plans import FunctionSignaturePath, Plan
from magnet_core.domain.trajectory import Reject
from magnet_core.graph.candidates import generate_candidates
from magnet_core.graph.dependency_graph import DependencyGraph
from magnet_core.graph.edges import DependencyEdge
from magnet_core.graph.features import spec_features, spec_lexicon
from magnet_core.gc_pause import cyclic_gc_paused
from magnet_core.graph.heuristic_judge import HeuristicJudge
from magnet_core.graph.operations import PlanDraft, add_premises, draft_from_path, insert, merge, split
from magnet_core.graph.premise_rules import required_premises
from magnet_core.graph.walks import derived_rng, random_walk
from magnet_core.pools.base import FunctionPool


class GraphStageConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    k_candidates: int = Field(default=30, ge=1, le=500)
    max_token_df: int | None = Field(default=None, ge=2, description="Input tokens held by more functions are not indexed (default 4*sqrt(n), at least 50)")
    judge: Literal["auto", "heuristic", "llm"] = Field(default="auto", description=(
        "auto: the model judge when a model plays the dependency_judge role (a lone `teacher` alias does), "
        "else the offline heuristic judge; heuristic: always offline; llm: the model judge (needs a model)"))
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    seed: int = Field(default=0, description="Recorded in the graph metadata; the heuristic judge is deterministic without it")
    record_fingerprint: bool = True


class PlanStageConfig(BaseModel):
    """Walk and node-operation settings. The defaults give short plans (about 3.7 turns, 4.7 calls per
    translated BFCL scenario); `walk_length=15, merge_p=0.85, max_functions_per_turn=5, walk_revisits=True`
    give the paper's shape (4.71 turns, 15.1 calls; benchmarks/plan_shape.py, tests/graph/test_plan_shape.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    walk_length: int = Field(default=7, ge=1, le=64)
    walks_per_function: int = Field(default=1, ge=1, le=100)
    min_path_length: int = Field(default=2, ge=1)
    walk_revisits: bool = Field(default=False, description="A function may come back later in a walk (the paper's plain random walk; long plans over small classes)")
    merge_p: float = Field(default=0.3, ge=0.0, le=1.0)
    max_functions_per_turn: int = Field(default=3, ge=1)
    insert_nested_p: float = Field(default=0.5, ge=0.0, le=1.0)
    insert_long_p: float = Field(default=0.2, ge=0.0, le=1.0)
    max_inserts: int = Field(default=2, ge=0)
    min_long_gap: int = Field(default=2, ge=1)
    insert_premises: bool = Field(default=True, description="Add the calls that set up a required premise (premise_rules) "
                                  "before the call needing it when the walk did not: doors locked and brake pressed before the engine starts")
    split_p: float = Field(default=1.0, ge=0.0, le=1.0, description="Chance that P also yields a split P'")
    miss_func_ratio: float = Field(default=0.5, ge=0.0, le=1.0)
    max_plans: int | None = Field(default=None, ge=1, description="Paths turned into plans (each gives P and maybe P'): "
                                  "more walks per function are taken until this many distinct paths exist")
    skip_plans: int = Field(default=0, ge=0, description="Paths an earlier round already used (top-up rounds take the next ones)")
    max_walks_per_function: int = Field(default=64, ge=1, le=1000, description="Bound on the walks taken to reach max_plans")
    seed: int = 0

    @model_validator(mode="after")
    def _insert_probabilities(self) -> "PlanStageConfig":
        if self.insert_nested_p + self.insert_long_p > 1.0:
            raise ValueError("insert_nested_p + insert_long_p must not exceed 1 (one draw decides nested, long or neither)")
        return self


def build_graph(pool: FunctionPool, config: GraphStageConfig = GraphStageConfig(), judge: Any = None) -> DependencyGraph:
    """Judge every function against its candidates. `judge=None` uses the offline heuristic judge.

    A judge is any object with `judge(target, candidates) -> list[DependencyEdge]` returning edges
    `target -> candidate` for candidates that depend on `target`; one with `ajudge_many` (the LLM judge)
    is run concurrently. Edges a judge returns outside the asked candidates raise:
    a judge that invents neighbours is a bug, not data. Judge failures on one function (LLM answers
    that fail validation) come back as `graph.rejects`.
    """
    with cyclic_gc_paused():
        return _build_graph(pool, config, judge)


def _build_graph(pool: FunctionPool, config: GraphStageConfig, judge: Any) -> DependencyGraph:
    specs = sorted(pool.specs, key=lambda spec: spec.qualified_name)
    features = [spec_features(spec) for spec in specs]
    candidates = generate_candidates(features, k=config.k_candidates, max_df=config.max_token_df)
    if judge is None and config.judge == "llm":
        raise ValueError("judge='llm' needs an LLMDependencyJudge instance (built with the shared LLM client)")
    if config.judge == "auto":  # the metadata records the judge that ran, as it did before `auto` existed
        config = config.model_copy(update={"judge": "heuristic" if judge is None else "llm"})
    judge = judge if judge is not None else HeuristicJudge(min_score=config.min_score)
    rejects: list[Reject] = []
    nodes = [(spec.qualified_name, {"tool_class": spec.tool_class or "", "category": spec.category or "", "name": spec.name}) for spec in specs]
    metadata = {
        "pool": pool.name,
        "pool_fingerprint": pool.fingerprint() if config.record_fingerprint else None,
        "judge": getattr(judge, "name", type(judge).__name__),
        "offline": bool(getattr(judge, "offline", False)),
        "config": config.model_dump(mode="json"),
        "candidate_pairs": sum(len(c) for c in candidates),
    }
    if isinstance(judge, HeuristicJudge):  # fast path: attribute dicts straight into the graph
        graph = nx.DiGraph()
        graph.add_nodes_from(nodes)
        for i, feature in enumerate(features):
            for target, kind, evidence, score in judge.judge_raw(feature, [features[j] for j in candidates[i]]):
                graph.add_edge(feature.qualified, target, kind=kind, evidence=evidence, score=score, judge=judge.name)
        return DependencyGraph(graph, metadata)
    if hasattr(judge, "ajudge_many"):
        jobs = [(specs[i], [specs[j] for j in candidates[i]]) for i in range(len(specs))]
        edges, rejects = asyncio.run(judge.ajudge_many(jobs))
    else:
        edges = [edge for i, spec in enumerate(specs) for edge in judge.judge(spec, [specs[j] for j in candidates[i]])]
    _check_edges(edges, specs, candidates)
    graph = DependencyGraph.from_edges(nodes, edges, metadata)
    graph.rejects = rejects
    return graph


def _check_edges(edges: list[DependencyEdge], specs: list, candidates: list[list[int]]) -> None:
    position = {spec.qualified_name: i for i, spec in enumerate(specs)}
    for edge in edges:
        source = position.get(edge.source)
        target = position.get(edge.target)
        if source is None or target is None or target not in candidates[source]:
            raise ValueError(f"judge returned {edge.source} -> {edge.target}, which was not among the candidates asked")


def sample_plans(graph: DependencyGraph, pool: FunctionPool, config: PlanStageConfig = PlanStageConfig()) -> list[Plan]:
    """Plans P (merge, insert) and P' (split of P) from seeded walks starting at every function."""
    return sample_plans_with_report(graph, pool, config)[0]


def sample_plans_with_report(graph: DependencyGraph, pool: FunctionPool, config: PlanStageConfig = PlanStageConfig()) -> tuple[list[Plan], dict[str, int]]:
    with cyclic_gc_paused():
        return _sample_plans(graph, pool, config)


def _sample_plans(graph: DependencyGraph, pool: FunctionPool, config: PlanStageConfig) -> tuple[list[Plan], dict[str, int]]:
    by_name = pool.by_name
    missing = sorted(set(graph.graph.nodes) - set(by_name))
    if missing:
        raise ValueError(f"graph nodes not in pool {pool.name}: {missing[:5]}")
    adjacency = {node: sorted(graph.graph.successors(node)) for node in graph.graph.nodes}
    paths, counts = _select_paths(adjacency, config)
    required = lambda name: by_name[name].required_params  # noqa: E731
    premises = required_premises((spec.qualified_name, spec.tool_class or spec.category, *spec_lexicon(spec))
                                 for spec in pool.specs if spec.qualified_name in adjacency)
    plans: list[Plan] = []
    counts.update(paths=len(paths), p_plans=0, p_prime_plans=0, p_prime_skipped_single_turn=0, p_prime_not_drawn=0)
    for path in paths:
        rng = derived_rng(config.seed, "operations", path.nodes)
        draft = merge(draft_from_path(path), rng, config.merge_p, config.max_functions_per_turn)
        draft = insert(draft, adjacency.__getitem__, graph.nested_feeds, rng, config.insert_nested_p, config.insert_long_p, config.max_inserts, config.min_long_gap)
        if config.insert_premises:
            draft = add_premises(draft, lambda name: premises.get(name, ()), config.max_functions_per_turn)
        plans.append(_plan(path, draft, "P", config.seed))
        counts["p_plans"] += 1
        if rng.random() >= config.split_p:
            counts["p_prime_not_drawn"] += 1
            continue
        split_draft = split(draft, required, rng, config.miss_func_ratio, graph.nested_feeds)
        if split_draft is None:
            counts["p_prime_skipped_single_turn"] += 1
            continue
        plans.append(_plan(path, split_draft, "P_prime", config.seed))
        counts["p_prime_plans"] += 1
    return plans, counts


def _select_paths(adjacency: dict[str, list[str]], config: PlanStageConfig) -> tuple[list[FunctionSignaturePath], dict[str, int]]:
    """Paths in an order whose prefixes never change: wave w is walk index w from every function, a wave's
    new paths are shuffled by (seed, w) and follow the earlier waves'. Round r takes positions
    [skip_plans, skip_plans + max_plans), so a top-up round gets fresh paths and the first round's stay put.
    Waves are added beyond `walks_per_function` until the window is full, the graph gives no new path in a
    wave (saturated) or `max_walks_per_function` is reached; `counts` says which."""
    starts = sorted(adjacency)
    wanted = None if config.max_plans is None else config.skip_plans + config.max_plans
    ordered: list[FunctionSignaturePath] = []
    seen: set[tuple[str, ...]] = set()
    counts = {"walks": 0, "too_short": 0, "duplicates": 0, "waves": 0}
    wave = 0
    while wave < config.walks_per_function or (wanted is not None and len(ordered) < wanted and wave < config.max_walks_per_function):
        fresh = []
        for start in starts:
            counts["walks"] += 1
            path = random_walk(adjacency, start, config.walk_length, config.seed, wave, config.walk_revisits)
            if len(path.nodes) < config.min_path_length:
                counts["too_short"] += 1
            elif path.nodes in seen:
                counts["duplicates"] += 1
            else:
                seen.add(path.nodes)
                fresh.append(path)
        derived_rng(config.seed, "select", wave).shuffle(fresh)
        ordered += fresh
        wave += 1
        if not fresh and wave >= config.walks_per_function:
            break  # saturated: a whole wave found nothing new
    counts["waves"] = wave
    counts["distinct_paths"] = len(ordered)
    window = ordered[config.skip_plans:wanted]
    if wanted is not None:
        counts["paths_asked"] = config.max_plans
        counts["paths_short"] = max(0, config.max_plans - len(window))  # the graph cannot give more distinct walks
    return window, counts


def _plan(path: FunctionSignaturePath, draft: PlanDraft, variant: str, seed: int) -> Plan:
    content = {
        "variant": variant,
        "seed": seed,
        "path": list(path.nodes),
        "turns": [turn.model_dump(mode="json") for turn in draft.turns],
        "operations": [op.model_dump(mode="json") for op in draft.operations],
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
    return Plan(plan_id=f"plan-{digest}", path=path, turns=draft.turns, operations=draft.operations, variant=variant)
