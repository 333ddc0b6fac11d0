"""The canonical objects validate their invariants and serialise losslessly."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.domain import (
    ChatMessage,
    FunctionCall,
    FunctionSignaturePath,
    NodeOperation,
    NodeOperationKind,
    Plan,
    PlanTurn,
    PreferencePair,
    Scenario,
    ToolCall,
    Trajectory,
    TurnLabel,
)


def _trajectory() -> Trajectory:
    call = FunctionCall(name="get_stock_info", arguments={"symbol": "NVDA", "options": {"window": [5, 20]}})
    return Trajectory(
        trajectory_id="t1",
        messages=(
            ChatMessage(role="system", content="You can call functions."),
            ChatMessage(role="user", content="How is Nvidia doing?"),
            ChatMessage(role="assistant", tool_calls=(ToolCall(id="call_0", function=call),)),
            ChatMessage(role="tool", tool_call_id="call_0", name="get_stock_info", content='{"price": 220.3}'),
            ChatMessage(role="assistant", content="Nvidia trades at 220.3."),
        ),
        tools=({"type": "function", "function": {"name": "get_stock_info", "parameters": {"type": "object"}}},),
        metadata={"category": "multi_turn", "offline": True},
    )


def test_trajectory_json_round_trip_is_exact():
    trajectory = _trajectory()
    restored = Trajectory.model_validate_json(trajectory.model_dump_json())
    assert restored == trajectory
    assert restored.assistant_calls[0].arguments == {"symbol": "NVDA", "options": {"window": [5, 20]}}


def test_openai_and_template_views():
    trajectory = _trajectory()
    wire = trajectory.to_openai_messages()
    assert json.loads(wire[2]["tool_calls"][0]["function"]["arguments"]) == {"symbol": "NVDA", "options": {"window": [5, 20]}}
    assert [ChatMessage.from_openai(message) for message in wire] == list(trajectory.messages)
    template = trajectory.to_template_messages()
    assert template[2]["tool_calls"][0]["function"]["arguments"] == {"symbol": "NVDA", "options": {"window": [5, 20]}}
    assert "None" not in json.dumps(template) and "null" not in json.dumps(template)


@pytest.mark.parametrize(
    "bad",
    [
        {"role": "user", "content": None},
        {"role": "tool", "content": "x"},
        {"role": "assistant", "content": None},
        {"role": "user", "content": "x", "tool_calls": ({"id": "c", "function": {"name": "f", "arguments": {}}},)},
        {"role": "robot", "content": "x"},
    ],
)
def test_malformed_messages_are_refused(bad):
    with pytest.raises(ValidationError):
        ChatMessage.model_validate(bad)


def test_plan_turn_labels_are_consistent():
    with pytest.raises(ValidationError):
        PlanTurn(functions=(), label=TurnLabel.NORMAL)
    with pytest.raises(ValidationError):
        PlanTurn(functions=("A.f",), label=TurnLabel.MISS_FUNC, withheld_function="A.f")
    with pytest.raises(ValidationError):
        PlanTurn(label=TurnLabel.MISS_PARAM, withheld_function="A.f")
    with pytest.raises(ValidationError):
        PlanTurn(functions=("A.f",), implicit=("A.g",))
    turn = PlanTurn(label=TurnLabel.MISS_PARAM, withheld_function="A.f", withheld_param="x")
    path = FunctionSignaturePath(nodes=("A.f", "A.g"), seed=3)
    plan = Plan(
        plan_id="p",
        path=path,
        turns=(PlanTurn(functions=("A.g",)), turn, PlanTurn(functions=("A.f",))),
        operations=(NodeOperation(kind=NodeOperationKind.SPLIT_MISS_PARAM, turn_index=1, functions=("A.f",)),),
        variant="P_prime",
    )
    scenario = Scenario(scenario_id="s", plan=plan, pool="bfcl", initial_state={"A": {"x": 1}}, seed=3)
    assert Scenario.model_validate_json(scenario.model_dump_json()) == scenario
    assert plan.functions == ["A.g", "A.f"]


def test_preference_pair_round_trip():
    trajectory = _trajectory()
    pair = PreferencePair(
        pair_id="p1",
        prompt=trajectory.messages[:2],
        chosen=trajectory.messages[2:],
        rejected=(ChatMessage(role="assistant", content="I cannot help."),),
        differing_turn=0,
        error_type="missing_nested_call",
        reason="rejected answer skipped the lookup",
    )
    assert PreferencePair.model_validate_json(pair.model_dump_json()) == pair


def test_cli_pool_prints_counts_per_class_and_refuses_bad_pools(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["pool", "--pool", "bfcl"])
    assert result.exit_code == 0, result.output
    assert "128 functions" in result.output and "TradingBot" in result.output and "20" in result.output
    bad = tmp_path / "tools.json"
    bad.write_text('[{"type": "function", "function": {"description": "nameless"}}]')
    assert runner.invoke(app, ["pool", "--pool", "openai-json", "--source", str(bad)]).exit_code == 0
    strict = runner.invoke(app, ["pool", "--pool", "openai-json", "--source", str(bad), "--strict"])
    assert strict.exit_code == 2 and "missing function name" in strict.output
