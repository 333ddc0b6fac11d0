"""Verification rejects each bad case with its own reason, both directly and inside the distill stage."""

from __future__ import annotations

import pytest

from magnet_core.domain import ChatMessage, FunctionCall, ToolCall, Trajectory, TurnLabel
from magnet_core.distill.stage import DistillConfig, distill
from magnet_core.execution.executor import CallExecutor
from magnet_core.verify.checks import verify_trajectory
from magnet_core.verify.outcomes import strict_outcome


def _trajectory(pool, call: FunctionCall, closing: str = "The result is 3.", user: str = "Please add 1 and 2."):
    tools = tuple(pool.spec(name).to_openai_tool() for name in ("MathAPI.add", "MathAPI.divide"))
    with CallExecutor(pool.new_session(["MathAPI.add", "MathAPI.divide"])) as executor:
        result = strict_outcome(executor.execute(call))
    messages = (ChatMessage(role="system", content="You can call functions."), ChatMessage(role="user", content=user),
                ChatMessage(role="assistant", tool_calls=(ToolCall(id="c0", function=call),)),
                ChatMessage(role="tool", tool_call_id="c0", content=result.output_text()),
                ChatMessage(role="assistant", content=closing))
    return Trajectory(trajectory_id="t", messages=messages, tools=tools), [result]


def _codes(problems) -> set[str]:
    return {problem.code for problem in problems}


def test_a_good_trajectory_passes(bfcl_pool):
    call = FunctionCall(name="add", arguments={"a": 1, "b": 2})
    trajectory, results = _trajectory(bfcl_pool, call)
    assert verify_trajectory(trajectory, results, [TurnLabel.NORMAL], [[call]]) == []


@pytest.mark.parametrize("call, closing, label, code", [
    (FunctionCall(name="launch_rocket", arguments={}), "Done.", TurnLabel.NORMAL, "unknown_function"),
    (FunctionCall(name="add", arguments={"a": "one", "b": 2}), "Done.", TurnLabel.NORMAL, "schema_mismatch"),
    (FunctionCall(name="divide", arguments={"a": 1, "b": 0}), "Done.", TurnLabel.NORMAL, "execution_error"),
    (FunctionCall(name="add", arguments={"a": 1, "b": 2}), "As the hint said, it is 3.", TurnLabel.NORMAL, "hint_leakage"),
    (FunctionCall(name="add", arguments={"a": 1, "b": 2}), "Per <reference_calls>[add(a=1, b=2)]</reference_calls>: 3.",
     TurnLabel.NORMAL, "hint_leakage"),
    (FunctionCall(name="add", arguments={"a": 1, "b": 2}), "The request failed with an error.", TurnLabel.NORMAL, "failure_keyword"),
    (FunctionCall(name="add", arguments={"a": 1, "b": 2}), "The result is 3.", TurnLabel.MISS_PARAM, "missing_info_called"),
])
def test_each_bad_case_is_named(bfcl_pool, call, closing, label, code):
    trajectory, results = _trajectory(bfcl_pool, call, closing)
    problems = verify_trajectory(trajectory, results, [label])
    assert code in _codes(problems), problems
    assert all(problem.detail for problem in problems)


def test_positive_that_departs_from_the_reference_is_caught(bfcl_pool):
    call = FunctionCall(name="add", arguments={"a": 1, "b": 2})
    trajectory, results = _trajectory(bfcl_pool, call)
    problems = verify_trajectory(trajectory, results, [TurnLabel.NORMAL], [[FunctionCall(name="add", arguments={"a": 1, "b": 5})]])
    assert _codes(problems) == {"reference_mismatch"}


def test_several_calls_in_one_step_are_refused_for_multi_turn(bfcl_pool):
    call = FunctionCall(name="add", arguments={"a": 1, "b": 2})
    trajectory, results = _trajectory(bfcl_pool, call)
    doubled = list(trajectory.messages)
    doubled[2] = ChatMessage(role="assistant", tool_calls=(ToolCall(id="c0", function=call), ToolCall(id="c1", function=call)))
    doubled.insert(4, ChatMessage(role="tool", tool_call_id="c1", content='{"result": 3}'))
    trajectory = trajectory.model_copy(update={"messages": tuple(doubled)})
    assert "several_calls_in_step" in _codes(verify_trajectory(trajectory, results * 2, [TurnLabel.NORMAL]))
    assert "several_calls_in_step" not in _codes(verify_trajectory(trajectory, results * 2, [TurnLabel.NORMAL],
                                                                   one_call_per_step=False))


def test_distill_stage_rejects_leaking_scenarios_with_stage_and_reason(bfcl_pool, translated_offline):
    item = translated_offline.translated[0]
    leaking_turn = item.turns[0].model_copy(update={"query": item.turns[0].query + " (hint: use the reference calls)"})
    leaking = item.model_copy(update={"turns": (leaking_turn, *item.turns[1:])})
    result = distill(bfcl_pool, [leaking, translated_offline.translated[1]], DistillConfig(seed=0))
    assert len(result.trajectories) == 1
    reject = next(r for r in result.rejects if r.stage == "verify")
    assert reject.reason == "hint_leakage" and reject.item_id.startswith(item.scenario.scenario_id)
    assert reject.payload["messages"]  # the refused trajectory is kept for inspection
