"""Plan settings that reach the paper's multi-turn shape (4.71 turns, 15.1 calls per sample), and the
revisiting walk that makes long plans possible over BFCL's small tool classes. Translated figures:
benchmarks/plan_shape.py."""

from __future__ import annotations

import statistics

from magnet_core.graph.stage import PlanStageConfig, sample_plans
from magnet_core.graph.walks import random_walk

PAPER_SHAPE = PlanStageConfig(walk_length=15, merge_p=0.85, max_functions_per_turn=5, walk_revisits=True)


def test_revisiting_walk_reaches_its_length_and_every_step_follows_an_edge(bfcl_graph):
    adjacency = {node: bfcl_graph.successors(node) for node in bfcl_graph.graph.nodes}
    starts = [node for node in sorted(adjacency) if adjacency[node]][::4]  # a sink's walk is the sink alone
    lengths = []
    for start in starts:
        path = random_walk(adjacency, start, 15, seed=3, revisits=True)
        lengths.append(len(path.nodes))
        for index in range(1, len(path.nodes)):
            step = path.nodes[index]
            assert step != path.nodes[index - 1]  # never the function it is at
            assert any(step in adjacency[earlier] for earlier in path.nodes[:index])  # depends on an earlier one
        assert path.stop_reason in {"length", "dead_end"}
        assert path == random_walk(adjacency, start, 15, seed=3, revisits=True)
    plain = [len(random_walk(adjacency, s, 15, seed=3).nodes) for s in starts]
    assert statistics.fmean(lengths) > 12 > statistics.fmean(plain)


def test_paper_settings_give_the_paper_shape_and_defaults_stay_short(bfcl_graph, bfcl_pool):
    def shape(config):
        plans = sample_plans(bfcl_graph, bfcl_pool, config)
        return statistics.fmean(len(p.turns) for p in plans), statistics.fmean(len(p.functions) for p in plans)

    turns, calls = shape(PAPER_SHAPE)
    print(f"\npaper settings: {turns:.2f} turns, {calls:.2f} calls per plan (paper 4.71 / 15.1)")
    assert 4.3 <= turns <= 5.2 and 13.5 <= calls <= 16.5
    turns, calls = shape(PlanStageConfig())
    assert turns < 4.3 and calls < 6
