"""miss_func as BFCL's prompting mode: the withheld function is announced in the next user message, the
assistant then does the pending ask with it; the stored `tools` never contain it."""

from __future__ import annotations

import json
import random

import pytest

from magnet_core.domain import ChatMessage, ToolCall, TurnLabel
from magnet_core.distill.stage import DistillConfig, distill
from magnet_core.roles.announcer import announced_tools, announcement_text
from magnet_core.roles.text import render_value
from magnet_core.roles.values import leaves
from magnet_core.translate.stage import TranslateConfig, translate_plans
from magnet_core.verify.checks import leakage_problems, turn_segments, verify_trajectory

WITHHELD = "MathAPI.multiply"  # as in the `unlock_plan` fixture


@pytest.fixture(scope="module")
def unlocked(bfcl_pool, unlock_plan):
    translated = translate_plans(bfcl_pool, [unlock_plan], TranslateConfig(seed=1))
    assert not translated.rejects, translated.rejects
    item = translated.translated[0]
    distilled = distill(bfcl_pool, [item], DistillConfig(seed=1, pairs_per_scenario=5))
    assert len(distilled.trajectories) == 1, distilled.rejects
    return item, distilled


def test_translation_announces_the_withheld_function_and_does_the_pending_ask(bfcl_pool, unlocked):
    item, _ = unlocked
    first, miss, unlock = item.turns
    assert miss.label is TurnLabel.MISS_FUNC and miss.withheld_function == WITHHELD
    assert not miss.reference_calls and not miss.results
    assert WITHHELD not in item.offered_functions and WITHHELD not in unlock.offered_functions
    assert unlock.label is TurnLabel.NORMAL and unlock.announced_functions == (WITHHELD,)
    assert json.dumps(bfcl_pool.spec(WITHHELD).to_openai_tool(), ensure_ascii=False) in unlock.query
    (call,) = unlock.reference_calls
    assert call.name == "multiply" and unlock.results[0].ok
    earlier = {value for result in first.results for _, value in leaves(result.output)}
    for value in call.arguments.values():  # the pending ask's values: said in the miss_func query or taken from before
        assert render_value(value) in miss.query or value in earlier, (value, miss.query)
    operation = item.scenario.plan.operations[-1]
    assert operation.turn_index == 2 and operation.functions == (WITHHELD,) and "announced at turn 2" in operation.detail


def test_distilled_trajectory_refuses_then_calls_the_announced_function(bfcl_pool, unlocked):
    item, distilled = unlocked
    trajectory = distilled.trajectories[0]
    assert "multiply" not in {tool["function"]["name"] for tool in trajectory.tools}
    users = [m for m in trajectory.messages if m.role == "user"]
    assert users[2].content == item.turns[2].query
    _, refusal, done = turn_segments(trajectory.messages)
    assert len(refusal) == 1 and not refusal[0].tool_calls and "tool" in refusal[0].content.lower()
    assert [m.tool_calls[0].function for m in done if m.tool_calls] == list(item.turns[2].reference_calls)
    assert done[1].role == "tool" and "error" not in done[1].content.lower()
    assert done[-1].role == "assistant" and done[-1].content
    assert trajectory.metadata["node_operations"][-1]["detail"].startswith(f"{WITHHELD} withheld at turn 1, announced")
    results = [r for turn in item.turns for r in turn.results]
    labels = [turn.label for turn in item.turns]
    assert verify_trajectory(trajectory, results, labels, [list(t.reference_calls) for t in item.turns]) == []


def test_calling_the_function_before_it_is_announced_is_rejected(bfcl_pool, unlocked):
    item, distilled = unlocked
    trajectory = distilled.trajectories[0]
    call = item.turns[2].reference_calls[0]
    messages = list(trajectory.messages)
    refusal = next(i for i, m in enumerate(messages) if m.role == "user" and m.content == item.turns[1].query) + 1
    messages[refusal:refusal + 1] = [ChatMessage(role="assistant", tool_calls=(ToolCall(id="early", function=call),)),
                                     ChatMessage(role="tool", tool_call_id="early", content='{"result": 200.0}'),
                                     ChatMessage(role="assistant", content="The product is 200.")]
    early = trajectory.model_copy(update={"messages": tuple(messages)})
    results = [*item.turns[0].results, *item.turns[2].results, *item.turns[2].results]
    problems = verify_trajectory(early, results, [turn.label for turn in item.turns])
    by_code = {problem.code: problem.detail for problem in problems}
    assert "missing_info_called" in by_code and "turn 1" in by_code["missing_info_called"]
    assert "unknown_function" in by_code and "a later user message announces it" in by_code["unknown_function"]


def test_an_unannounced_call_to_the_withheld_function_is_rejected(bfcl_pool, unlocked):
    item, distilled = unlocked
    trajectory = distilled.trajectories[0]
    silent = tuple(m.model_copy(update={"content": "Can you do what I asked?"}) if m.content == item.turns[2].query else m
                   for m in trajectory.messages)
    results = [r for turn in item.turns for r in turn.results]
    problems = verify_trajectory(trajectory.model_copy(update={"messages": silent}), results, [t.label for t in item.turns])
    assert [p.code for p in problems] == ["unknown_function"]
    assert "turn 2: multiply is not among the offered tools" in problems[0].detail


def test_pairs_include_calling_a_stand_in_in_the_miss_func_turn(unlocked):
    """Type 5 on a miss_func turn calls an *offered* function as if it could do the withheld one's job: a
    hint naming the withheld function could never be followed by a model (it is not offered)."""
    _, distilled = unlocked
    pair = next(p for p in distilled.pairs if p.error_type == "missing_info_misjudged")
    assert pair.differing_turn == 1
    offered = {tool["function"]["name"] for tool in pair.tools}
    called = [c.function.name for m in pair.rejected for c in m.tool_calls]
    assert len(called) == 1 and called[0] in offered and "multiply" not in offered
    assert "instead of saying it is missing" in pair.reason


def test_announcement_schema_is_not_read_as_hint_leakage(bfcl_pool):
    spec = bfcl_pool.spec(WITHHELD)
    tool = spec.to_openai_tool()
    hinted = spec.model_copy(update={"description": "Multiply; a hint: mind the reference calls."})
    text = announcement_text([hinted], random.Random(0))
    assert [t for _, _, t in announced_tools(announcement_text([spec], random.Random(0)))] == [tool]
    assert "hint" in text and leakage_problems([ChatMessage(role="user", content=text)]) == []
    assert leakage_problems([ChatMessage(role="user", content=text + " Use the hint.")])
