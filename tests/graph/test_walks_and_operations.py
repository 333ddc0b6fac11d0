"""Contracts of walks and node operations (merge, insert, split) and of the plan stage built on them."""

from __future__ import annotations

import random

import pytest

from magnet_core.domain.plans import FunctionSignaturePath, NodeOperationKind, PlanTurn, TurnLabel
from magnet_core.graph.operations import PlanDraft, draft_from_path, insert, merge, split
from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig, build_graph, sample_plans, sample_plans_with_report
from magnet_core.graph.walks import random_walk, sample_paths


def path_of(*nodes: str) -> FunctionSignaturePath:
    return FunctionSignaturePath(nodes=nodes, seed=0)


# --- walks --------------------------------------------------------------------------------------------
def test_walk_follows_edges_without_revisits_and_is_seeded(bfcl_graph):
    adjacency = {node: bfcl_graph.successors(node) for node in bfcl_graph.graph.nodes}
    for start in sorted(adjacency)[:40]:
        path = random_walk(adjacency, start, 7, seed=3)
        assert path == random_walk(adjacency, start, 7, seed=3)
        assert len(path.nodes) <= 7 and len(set(path.nodes)) == len(path.nodes)
        for a, b in zip(path.nodes, path.nodes[1:]):
            assert bfcl_graph.graph.has_edge(a, b)
        if len(path.nodes) < 7:
            assert path.stop_reason in {"dead_end", "revisit"}
            fresh = [n for n in adjacency[path.nodes[-1]] if n not in path.nodes]
            assert not fresh


def test_dead_end_revisit_and_duplicate_policy():
    adjacency = {"A": ["B"], "B": ["A"], "C": ["D"], "D": [], "E": ["D"]}
    assert random_walk(adjacency, "A", 7, 0).stop_reason == "revisit"
    dead = random_walk(adjacency, "C", 7, 0)
    assert dead.nodes == ("C", "D") and dead.stop_reason == "dead_end"
    paths, counts = sample_paths(adjacency, ["A", "C", "D", "E"], 7, 0, walks_per_function=3)
    assert [p.nodes for p in paths] == [("A", "B"), ("C", "D"), ("E", "D")]
    assert counts == {"walks": 12, "too_short": 3, "duplicates": 6}


def test_walks_are_uniform_over_out_edges():
    adjacency = {"S": ["A", "B", "C"], "A": [], "B": [], "C": []}
    seconds = [random_walk(adjacency, "S", 2, seed=0, walk_index=i).nodes[1] for i in range(3000)]
    for node in "ABC":
        assert 850 < seconds.count(node) < 1150


# --- merge --------------------------------------------------------------------------------------------
def test_merge_joins_consecutive_turns_and_records_it():
    draft = draft_from_path(path_of("a", "b", "c", "d", "e", "f", "g"))
    merged = merge(draft, random.Random(1), p=0.5, max_functions_per_turn=3)
    merges = [op for op in merged.operations if op.kind is NodeOperationKind.MERGE]
    assert merged.functions == list("abcdefg")  # order kept, nothing lost
    assert len(merged.turns) == 7 - len(merges) and merges
    for op in merges:
        assert merged.turns[op.turn_index].functions[: len(op.functions)] == op.functions[: len(merged.turns[op.turn_index].functions)]
        assert len(merged.turns[op.turn_index].functions) >= 2
    assert all(len(turn.functions) <= 3 for turn in merged.turns)
    assert merge(draft, random.Random(1), p=0.0).turns == draft.turns
    assert [t.functions for t in merge(draft, random.Random(1), p=1.0, max_functions_per_turn=2).turns] == [("a", "b"), ("c", "d"), ("e", "f"), ("g",)]


def test_merge_rate_is_p():
    draft = draft_from_path(path_of(*[f"f{i}" for i in range(7)]))
    joined = sum(len([op for op in merge(draft, random.Random(i), p=0.3, max_functions_per_turn=99).operations]) for i in range(2000))
    assert 0.27 < joined / (2000 * 6) < 0.33


# --- insert -------------------------------------------------------------------------------------------
def test_insert_appends_only_functions_fed_by_the_turns_output(bfcl_graph, bfcl_pool):
    by_name = bfcl_pool.by_name
    successors = bfcl_graph.successors
    seen_nested = seen_long = 0
    for start in sorted(bfcl_graph.graph.nodes):
        adjacency = {n: successors(n) for n in bfcl_graph.graph.nodes}
        path = random_walk(adjacency, start, 4, seed=1)
        before = draft_from_path(path)
        after = insert(before, successors, bfcl_graph.nested_feeds, random.Random(start), p_nested=0.6, p_long=0.4, max_inserts=3)
        for op in after.operations:
            source, added = op.functions
            feeds = bfcl_graph.nested_feeds(source, added)
            assert feeds, f"{added} inserted without value evidence from {source}"
            for field, param in feeds:  # the inputs really come from the turn's outputs
                assert field in by_name[source].response_properties and param in by_name[added].param_properties
            assert added not in path.nodes
            turn = after.turns[op.turn_index]
            if op.kind is NodeOperationKind.INSERT_NESTED:
                seen_nested += 1
                assert turn.functions[-1] == added and added in turn.implicit
                assert turn.functions[-2] == source
                assert len(after.turns) == len(before.turns) or any(o.kind is NodeOperationKind.INSERT_LONG_DEPENDENCY for o in after.operations)
            else:
                seen_long += 1
                assert turn.functions[0] == added  # its own turn (a later nested insert may join it)
                source_turn = next(i for i, t in enumerate(after.turns) if source in t.functions)
                assert op.turn_index - source_turn >= 2
    assert seen_nested > 10 and seen_long > 3


def test_insert_never_uses_premise_only_edges(bfcl_graph):
    # cd -> cat is a premise (no value flows): cat must never be inserted as nested after cd.
    draft = draft_from_path(path_of("GorillaFileSystem.cd"))
    for seed in range(50):
        after = insert(draft, lambda n: ["GorillaFileSystem.cat"], bfcl_graph.nested_feeds, random.Random(seed), p_nested=1.0)
        assert after == draft


# --- split --------------------------------------------------------------------------------------------
def test_split_miss_func_withholds_exactly_the_next_function():
    draft = PlanDraft(turns=(PlanTurn(functions=("A.x",)), PlanTurn(functions=("A.y", "A.z")), PlanTurn(functions=("A.w",))))
    for seed in range(30):
        out = split(draft, lambda name: ["p"], random.Random(seed), miss_func_ratio=1.0)
        op = out.operations[-1]
        assert op.kind is NodeOperationKind.SPLIT_MISS_FUNC and len(out.turns) == 4
        empty = out.turns[op.turn_index]
        assert empty.label is TurnLabel.MISS_FUNC and empty.functions == ()
        assert empty.withheld_function == out.turns[op.turn_index + 1].functions[0]
        assert op.turn_index >= 1  # after a turn, never first
        assert [t for t in out.turns if t.label is TurnLabel.NORMAL] == list(draft.turns)


def test_split_miss_param_names_a_required_parameter(bfcl_pool):
    required = lambda name: bfcl_pool.spec(name).required_params  # noqa: E731
    draft = draft_from_path(path_of("TravelAPI.authenticate_travel", "TravelAPI.book_flight", "TravelAPI.cancel_booking"))
    for seed in range(30):
        out = split(draft, required, random.Random(seed), miss_func_ratio=0.0)
        op = out.operations[-1]
        empty = out.turns[op.turn_index]
        assert op.kind is NodeOperationKind.SPLIT_MISS_PARAM and empty.label is TurnLabel.MISS_PARAM
        assert empty.withheld_function == out.turns[op.turn_index + 1].functions[0]
        assert empty.withheld_param in bfcl_pool.spec(empty.withheld_function).required_params


def test_split_miss_param_prefers_a_parameter_no_earlier_function_feeds():
    """A.make feeds B.use's `item_id`; `qty` is the user's to give, so miss_param leaves out `qty`; C.only's one
    parameter is fed, so a split drawn there moves to B.use's turn."""
    params = {"A.make": ["x"], "B.use": ["item_id", "qty"], "C.only": ["item_id"]}
    feeds = lambda source, target: [("item_id", "item_id")] if source == "A.make" and target != "A.make" else []  # noqa: E731
    draft = draft_from_path(path_of("A.make", "B.use", "C.only"))
    for seed in range(30):
        out = split(draft, params.__getitem__, random.Random(seed), miss_func_ratio=0.0, nested_feeds=feeds)
        empty = out.turns[out.operations[-1].turn_index]
        assert (empty.withheld_function, empty.withheld_param) == ("B.use", "qty")
    unfed = [split(draft, params.__getitem__, random.Random(seed), miss_func_ratio=0.0).turns for seed in range(30)]
    assert any(t.withheld_param == "item_id" for turns in unfed for t in turns if t.label is TurnLabel.MISS_PARAM)


def test_split_falls_back_to_miss_func_without_required_params_and_skips_one_turn_plans():
    draft = draft_from_path(path_of("A.x", "A.y"))
    out = split(draft, lambda name: [], random.Random(0), miss_func_ratio=0.0)
    assert out.turns[1].label is TurnLabel.MISS_FUNC and "no required parameter" in out.operations[-1].detail
    assert split(draft_from_path(path_of("A.x")), lambda name: ["p"], random.Random(0)) is None


def test_split_shifts_earlier_provenance():
    draft = merge(draft_from_path(path_of("a", "b", "c", "d")), random.Random(0), p=1.0, max_functions_per_turn=2)
    assert [op.turn_index for op in draft.operations] == [0, 1]
    out = split(draft, lambda name: [], random.Random(0))
    assert out.operations[-1].turn_index == 1
    assert [op.turn_index for op in out.operations[:2]] == [0, 2]
    for op in out.operations[:2]:
        assert out.turns[op.turn_index].functions == op.functions


# --- plan stage ---------------------------------------------------------------------------------------
def test_sample_plans_emits_p_and_p_prime_deterministically(bfcl_graph, bfcl_pool):
    config = PlanStageConfig(seed=7)
    plans, counts = sample_plans_with_report(bfcl_graph, bfcl_pool, config)
    again = sample_plans(bfcl_graph, bfcl_pool, config)
    assert [p.model_dump() for p in plans] == [p.model_dump() for p in again]
    other = sample_plans(bfcl_graph, bfcl_pool, PlanStageConfig(seed=8))
    assert {p.plan_id for p in plans} != {p.plan_id for p in other}
    assert len({p.plan_id for p in plans}) == len(plans)
    variants = [p.variant for p in plans]
    assert variants.count("P") == counts["p_plans"] > 50 and variants.count("P_prime") == counts["p_prime_plans"] > 50
    by_path: dict = {}
    for plan in plans:
        by_path.setdefault(plan.path.nodes, {})[plan.variant] = plan
    kinds = {op.kind for plan in plans for op in plan.operations}
    assert {NodeOperationKind.MERGE, NodeOperationKind.INSERT_NESTED, NodeOperationKind.SPLIT_MISS_FUNC, NodeOperationKind.SPLIT_MISS_PARAM} <= kinds
    for pair in by_path.values():
        if "P_prime" in pair:  # P' is P plus exactly one empty turn and one split operation
            p, prime = pair["P"], pair["P_prime"]
            assert [t for t in prime.turns if t.label is TurnLabel.NORMAL] == list(p.turns)
            assert len(prime.operations) == len(p.operations) + 1
    for plan in plans:
        assert plan.turns and all(name in bfcl_pool.by_name for name in plan.functions)


def test_plan_options_are_honoured(bfcl_graph, bfcl_pool):
    plans = sample_plans(bfcl_graph, bfcl_pool, PlanStageConfig(merge_p=0.0, insert_nested_p=0.0, insert_long_p=0.0, split_p=0.0, insert_premises=False,
                                                                     max_plans=10))
    assert len(plans) == 10 and all(p.variant == "P" for p in plans)
    assert all(not p.operations and len(p.turns) == len(p.path.nodes) for p in plans)


def test_build_graph_is_deterministic_and_order_independent(bfcl_pool, bfcl_graph):
    from dataclasses import replace

    shuffled = replace(bfcl_pool, specs=tuple(reversed(bfcl_pool.specs)))
    again = build_graph(shuffled, GraphStageConfig())
    assert again.to_json()["graph"] == bfcl_graph.to_json()["graph"]


def test_llm_judge_setting_without_a_judge_fails_clearly(bfcl_pool):
    with pytest.raises(ValueError, match="LLMDependencyJudge"):
        build_graph(bfcl_pool, GraphStageConfig(judge="llm"))
