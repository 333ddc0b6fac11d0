"""Issue 12: `max_plans` is honoured (more walks per function), top-up windows are fresh, saturation is reported."""

from __future__ import annotations

from magnet_core.graph.stage import PlanStageConfig, sample_plans_with_report


def _paths(plans):
    return {plan.path.nodes for plan in plans}


def test_max_plans_beyond_one_walk_per_function_is_honoured(bfcl_graph, bfcl_pool):
    one_wave = sample_plans_with_report(bfcl_graph, bfcl_pool, PlanStageConfig())[1]["paths"]
    plans, counts = sample_plans_with_report(bfcl_graph, bfcl_pool, PlanStageConfig(max_plans=3 * one_wave))
    assert counts["paths"] == 3 * one_wave == len(_paths(plans)) and counts["paths_short"] == 0
    assert counts["waves"] > 1


def test_a_top_up_window_gets_fresh_paths_and_leaves_the_first_round_as_it_was(bfcl_graph, bfcl_pool):
    first = sample_plans_with_report(bfcl_graph, bfcl_pool, PlanStageConfig(max_plans=150))[0]
    again = sample_plans_with_report(bfcl_graph, bfcl_pool, PlanStageConfig(max_plans=150))[0]
    more = sample_plans_with_report(bfcl_graph, bfcl_pool, PlanStageConfig(max_plans=100, skip_plans=150))[0]
    both = sample_plans_with_report(bfcl_graph, bfcl_pool, PlanStageConfig(max_plans=250))[0]
    assert [p.plan_id for p in first] == [p.plan_id for p in again]
    assert not _paths(first) & _paths(more) and len(_paths(more)) == 100
    assert _paths(first) | _paths(more) == _paths(both)


def test_a_graph_that_runs_out_of_walks_says_how_many_are_missing(bfcl_graph, bfcl_pool):
    counts = sample_plans_with_report(bfcl_graph, bfcl_pool, PlanStageConfig(max_plans=500, max_walks_per_function=3))[1]
    assert counts["paths"] == counts["distinct_paths"] < 500
    assert counts["paths_short"] == 500 - counts["paths"]
