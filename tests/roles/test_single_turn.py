"""Single / parallel / multiple / irrelevance samples from the BFCL pool, offline."""

from __future__ import annotations

import json

import pytest

from magnet_core.distill.single_turn import SingleTurnConfig, generate_single_turn


@pytest.fixture(scope="module")
def samples(bfcl_pool):
    return generate_single_turn(bfcl_pool, SingleTurnConfig(seed=2, single=12, parallel=12, multiple=12, irrelevance=12))


def _by_kind(result, kind):
    return [t for t in result.trajectories if t.metadata["category"] == kind]


def test_every_kind_is_generated_and_labelled_offline(samples):
    assert samples.offline is True
    for kind in ("single", "parallel", "multiple", "irrelevance"):
        assert len(_by_kind(samples, kind)) >= 8, kind
    for trajectory in samples.trajectories:
        assert trajectory.metadata["offline"] is True and set(trajectory.metadata["models"].values()) == {"offline"}
    assert len(samples.trajectories) + len(samples.rejects) == 48
    assert all(r.reason and r.stage in ("verify", "single_turn") for r in samples.rejects)


def test_single_and_multiple_make_one_offered_call(samples):
    for kind in ("single", "multiple"):
        for trajectory in _by_kind(samples, kind):
            calls = trajectory.assistant_calls
            offered = [tool["function"]["name"] for tool in trajectory.tools]
            assert len(calls) == 1 and calls[0].name in offered
            assert (len(offered) == 1) == (kind == "single")


def test_parallel_calls_one_function_with_several_argument_sets_in_one_message(samples):
    for trajectory in _by_kind(samples, "parallel"):
        steps = [m for m in trajectory.messages if m.tool_calls]
        assert len(steps) == 1 and len(steps[0].tool_calls) >= 2
        calls = [c.function for c in steps[0].tool_calls]
        assert len({c.name for c in calls}) == 1
        assert len({json.dumps(c.arguments, sort_keys=True) for c in calls}) == len(calls)


def test_irrelevance_refuses_in_text_with_no_fitting_tool(samples, bfcl_pool):
    for trajectory in _by_kind(samples, "irrelevance"):
        assert not trajectory.assistant_calls
        assert trajectory.messages[-1].role == "assistant" and trajectory.messages[-1].content
        target = bfcl_pool.spec(trajectory.metadata["target_function"])
        offered = {tool["function"]["name"] for tool in trajectory.tools}
        assert target.name not in offered
        assert not offered & {spec.name for spec in bfcl_pool.classes()[target.tool_class]}


def test_single_turn_generation_is_deterministic(bfcl_pool):
    config = SingleTurnConfig(seed=9, single=3, parallel=3, multiple=3, irrelevance=3)
    first, again = generate_single_turn(bfcl_pool, config), generate_single_turn(bfcl_pool, config)
    assert [t.model_dump_json() for t in first.trajectories] == [t.model_dump_json() for t in again.trajectories]
