"""Strict parsers of each role's model answer, and the offline labeller / judge / checker."""

from __future__ import annotations



import pytest

from magnet_core.domain import FunctionCall, TurnLabel
from magnet_core.llm.types import LLMResponse
from magnet_core.prompts import load_prompt
from magnet_core.roles.call_writer import parse_written_calls
from magnet_core.roles.error_judge import judge_offline, parse_verdict
from magnet_core.roles.labeller import label_offline, nested_arguments, parse_label
from magnet_core.roles.query_writer import parse_query
from magnet_core.roles.simulator import parse_simulated_output
from magnet_core.roles.llm_role import build_request
from magnet_core.roles.teacher import TeacherOutputError, parse_teacher_answer

ROLES = ("category_labeller", "query_writer", "call_writer", "teacher", "negative_sampler", "error_judge", "simulator")


def _text(content: str) -> LLMResponse:
    return LLMResponse(content=content, model="m")


def _calls(*calls: dict) -> LLMResponse:
    return LLMResponse(tool_calls=tuple(calls), model="m")


def test_every_role_has_a_versioned_prompt_of_its_own():
    tags = {load_prompt(role).cache_tag for role in ROLES}
    assert len(tags) == len(ROLES)
    assert "<reference_calls>[f(a=1)]</reference_calls>" in load_prompt("teacher").render(hint="[f(a=1)]", step_rule="one call per message")
    request = build_request("teacher", "distill", [{"role": "user", "content": "x"}])
    assert request.prompt_version == load_prompt("teacher").cache_tag


def test_query_parser_refuses_identifiers_and_bad_json():
    assert parse_query(_text('{"query": "Show me my files."}'), {"ls", "get_user_id"}) == "Show me my files."
    with pytest.raises(ValueError, match="identifiers"):
        parse_query(_text('{"query": "Call get_user_id for Bob."}'), {"get_user_id"})
    with pytest.raises(ValueError, match="invalid JSON|no JSON"):
        parse_query(_text("{query: nope}"), set())


def test_call_writer_parser_accepts_tool_calls_and_call_text_only_for_offered_functions():
    tool_call = {"id": "a", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}
    assert parse_written_calls(_calls(tool_call), {"add"}) == [FunctionCall(name="add", arguments={"a": 1, "b": 2})]
    assert parse_written_calls(_text('[add(a=1, b=2)]'), {"add"})[0].arguments == {"a": 1, "b": 2}
    with pytest.raises(ValueError, match="not offered"):
        parse_written_calls(_text("[rm(file_name='x')]"), {"add"})
    with pytest.raises(ValueError):
        parse_written_calls(_text("[__import__('os').system('id')]"), {"add"})


def test_teacher_parser_splits_calls_from_text_and_refuses_bad_output():
    assert parse_teacher_answer(_text("The sum is 3."), {"add"}) == ([], "The sum is 3.")
    with pytest.raises(TeacherOutputError, match="not valid JSON"):
        parse_teacher_answer(_calls({"id": "a", "type": "function", "function": {"name": "add", "arguments": "{oops"}}), {"add"})
    with pytest.raises(TeacherOutputError, match="not offered"):
        parse_teacher_answer(_calls({"id": "a", "type": "function", "function": {"name": "nope", "arguments": "{}"}}), {"add"})
    with pytest.raises(TeacherOutputError, match="empty"):
        parse_teacher_answer(_text("  "), {"add"})


def test_judge_and_simulator_and_labeller_parsers_are_strict():
    assert parse_verdict(_text('{"error_type": 2, "reason": "ignored the id"}')).name == "misused_same_turn_output"
    for bad in ('{"error_type": 9, "reason": "x"}', '{"error_type": true, "reason": "x"}', '{"error_type": 1}'):
        with pytest.raises(ValueError):
            parse_verdict(_text(bad))
    assert parse_simulated_output(_text('Sure: {"temperature": 21}')) == {"temperature": 21}
    with pytest.raises(ValueError):
        parse_simulated_output(_text("[1, 2]"))
    assert parse_label(_text('{"category": "math", "tool_class": "MathTools"}'), ["math"]).tool_class == "MathTools"
    with pytest.raises(ValueError):
        parse_label(_text('{"category": "cooking", "tool_class": "Chef"}'), ["math"])


def test_offline_labeller_keeps_pool_labels_and_guesses_missing_ones(bfcl_pool):
    spec = bfcl_pool.spec("TradingBot.place_order")
    assert label_offline(spec).category == "finance_trading" and label_offline(spec).tool_class == "TradingBot"
    bare = spec.model_copy(update={"category": None, "tool_class": None})
    assert label_offline(bare).category == "finance_trading"


def test_offline_error_judge_names_each_error_type():
    ref = [FunctionCall(name="get_user_id", arguments={"user": "Bob"}),
           FunctionCall(name="send_message", arguments={"receiver_id": "USR002", "message": "hi"})]
    out = [{"user_id": "USR002"}]
    wrong_id = [ref[0], FunctionCall(name="send_message", arguments={"receiver_id": "USR009", "message": "hi"})]
    assert judge_offline(TurnLabel.NORMAL, ref, ref[1:], [], []).error_type == 1
    assert judge_offline(TurnLabel.NORMAL, ref, wrong_id, out, []).error_type == 2
    assert judge_offline(TurnLabel.NORMAL, ref, wrong_id, [], out).error_type == 3
    assert judge_offline(TurnLabel.NORMAL, ref, ref, out, [], summary_ok=False).error_type == 4
    assert judge_offline(TurnLabel.MISS_FUNC, [], ref[:1], [], []).error_type == 5
    assert judge_offline(TurnLabel.NORMAL, ref, ref, out, []).error_type == 0


def test_nested_call_checker_finds_the_feeding_output():
    call = FunctionCall(name="send_message", arguments={"receiver_id": "USR002", "message": "hi", "urgent": True})
    assert nested_arguments(call, [{"files": ["a"]}, {"user_id": "USR002"}]) == {"receiver_id": 1}
    assert nested_arguments(call, [{"files": ["a"]}]) == {}

