"""The fake server's answer modes and injected faults, seen through the real client."""

from __future__ import annotations

import json

import pytest

from magnet_core.execution.call_parser import parse_openai_tool_calls
from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeLLMServer, FakeServerConfig
from magnet_core.llm.types import LLMRequest

from .conftest import make_client, model_for

HINT = '<reference_calls>[cd(folder="docs"), cat(file_name="a.txt")]</reference_calls>'


def _conversation(*messages: dict) -> LLMRequest:
    return LLMRequest(role="teacher", stage="distill", messages=(
        {"role": "system", "content": f"Follow the reference calls.\n{HINT}"}, *messages))


async def test_hint_mode_answers_one_call_per_step_then_summarises():
    async with FakeLLMServer(FakeServerConfig(answers=AnswerRules(mode="hint"))) as server:
        client, model = make_client(), model_for(server)
        user = {"role": "user", "content": "Open docs and show me a.txt"}
        first = await client.complete(_conversation(user), model)
        assert [c.name for c in parse_openai_tool_calls(list(first.tool_calls))] == ["cd"]
        assert parse_openai_tool_calls(list(first.tool_calls))[0].arguments == {"folder": "docs"}
        made = {"role": "assistant", "content": None, "tool_calls": list(first.tool_calls)}
        result = {"role": "tool", "tool_call_id": first.tool_calls[0]["id"], "content": "ok"}
        second = await client.complete(_conversation(user, made, result), model)
        assert parse_openai_tool_calls(list(second.tool_calls))[0].name == "cat"
        made2 = {"role": "assistant", "content": None, "tool_calls": list(second.tool_calls)}
        result2 = {"role": "tool", "tool_call_id": second.tool_calls[0]["id"], "content": "hello"}
        third = await client.complete(_conversation(user, made, result, made2, result2), model)
        assert not third.tool_calls and "cd, cat" in third.content
        # a new user turn starts counting again: the first call of the (last) block comes first
        next_turn = await client.complete(_conversation(user, made, result, made2, result2, third_message(third),
                                                        {"role": "user", "content": "again"}), model)
        assert parse_openai_tool_calls(list(next_turn.tool_calls))[0].name == "cd"


def third_message(response) -> dict:
    return {"role": "assistant", "content": response.content}


async def test_hint_mode_with_empty_block_asks_for_the_missing_piece():
    request = LLMRequest(role="teacher", messages=(
        {"role": "user", "content": "Delete it. <reference_calls>[]</reference_calls>"},))
    async with FakeLLMServer(FakeServerConfig(answers=AnswerRules(mode="hint"))) as server:
        response = await make_client().complete(request, model_for(server))
    assert not response.tool_calls and "which function or parameter" in response.content


async def test_script_mode_matches_rules_in_order_and_falls_back_to_echo():
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern=r"translate", content="Please list my files."),
        ScriptRule(pattern=r"ROLE: judge", target="prompt", content='{"depends": true}'),
        ScriptRule(pattern=r"call it", tool_calls=({"name": "ls", "arguments": {"a": True}},)),
    ))
    ask = lambda system, user: LLMRequest(role="r", messages=(  # noqa: E731
        {"role": "system", "content": system}, {"role": "user", "content": user}))
    async with FakeLLMServer(FakeServerConfig(answers=rules)) as server:
        client, model = make_client(), model_for(server)
        assert (await client.complete(ask("x", "please translate this"), model)).content == "Please list my files."
        assert json.loads((await client.complete(ask("ROLE: judge", "a->b?"), model)).content) == {"depends": True}
        called = await client.complete(ask("x", "call it now"), model)
        assert parse_openai_tool_calls(list(called.tool_calls))[0].arguments == {"a": True}
        assert (await client.complete(ask("x", "nothing matches"), model)).content.startswith("echo[")


async def test_truncated_and_unknown_function_answers_pass_through_raw():
    async with FakeLLMServer(FakeServerConfig(schedule=("truncated", "unknown_function"))) as server:
        client, model = make_client(), model_for(server)
        truncated = await client.complete(LLMRequest(role="r", messages=(
            {"role": "user", "content": "a long enough question to cut in half"},)), model)
        unknown = await client.complete(LLMRequest(role="r", messages=({"role": "user", "content": "q"},)), model)
    assert truncated.finish_reason == "length" and len(truncated.content) < 30
    assert unknown.tool_calls[0]["function"]["name"] == "function_that_does_not_exist"


def test_config_rejects_unknown_fault_kinds():
    with pytest.raises(ValueError, match="unknown fault"):
        FakeServerConfig(schedule=("explode",))


async def test_stats_endpoint_and_reset_over_http():
    import aiohttp

    async with FakeLLMServer() as server:
        await make_client().complete(LLMRequest(role="r", messages=({"role": "user", "content": "q"},)),
                                     model_for(server))
        base = server.url.removesuffix("/v1")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/stats") as reply:
                stats = await reply.json()
            assert stats["chat_requests"] == 1 and stats["by_status"] == {"200": 1}
            async with session.get(f"{base}/v1/models") as reply:
                assert (await reply.json())["data"][0]["id"] == "fake-model"
            async with session.post(f"{base}/stats/reset") as reply:
                assert reply.status == 200
        assert server.stats.chat_requests == 0


def test_script_rules_are_validated_up_front():
    with pytest.raises(ValueError, match="not a valid regex"):
        ScriptRule(pattern="(unclosed")
    with pytest.raises(ValueError, match="target"):
        ScriptRule(pattern="x", target="everything")  # type: ignore[arg-type]
