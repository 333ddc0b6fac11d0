"""Single-turn samples with every role on a model, over real HTTP through litellm to the project's test
server in `roles` mode: the query writer writes each query (irrelevance ones too), the call writer reads
the calls back from it, the teacher answers; bad answers are re-asked; rows say which model wrote what."""

from __future__ import annotations

import json

import pytest

from magnet_core.distill.single_turn import SingleTurnConfig, generate_single_turn
from magnet_core.llm.client import LLMClient
from magnet_core.llm.fake_answers import GUESSED_NUMBER, LEAK_TEXT, AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.llm.retry import RetryPolicy
from magnet_core.llm.types import ModelConfig
from magnet_core.pools import load_pool
from magnet_core.roles.llm_role import RoleModels
from magnet_core.verify.grounding import ungrounded_values

MODEL = "openai/fake-teacher"
PER_KIND = 5
# every kind of bad answer the factory must catch without a leak judge (paraphrased leaks are its job)
BAD_KINDS = ("invalid_json", "unknown_function", "empty", "leak", "ungrounded")


def _model(server) -> ModelConfig:
    return ModelConfig(model=MODEL, api_base=server.url, timeout_s=10.0, max_retries=1)


def _client() -> LLMClient:
    return LLMClient(retry=RetryPolicy(base_delay_s=0.002, max_delay_s=0.02, max_retry_after_s=0.05))


def _config(models: RoleModels, **changes) -> SingleTurnConfig:
    counts = {"single": PER_KIND, "parallel": PER_KIND, "multiple": PER_KIND, "irrelevance": PER_KIND}
    return SingleTurnConfig(seed=5, models=models, **{**counts, **changes})


def _all_roles(model: ModelConfig) -> RoleModels:
    return RoleModels(query_writer=model, call_writer=model, teacher=model)


@pytest.fixture(scope="module")
def offline(bfcl_pool):
    return generate_single_turn(bfcl_pool, _config(RoleModels()))


@pytest.mark.parametrize("bad_rate", [0.0, 0.10], ids=["well-behaved", "10%-bad-answers"])
def test_every_single_turn_role_on_the_model(bfcl_pool, offline, bad_rate):
    rules = AnswerRules(mode="roles", bad_rate=bad_rate, bad_kinds=BAD_KINDS)
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        result = generate_single_turn(bfcl_pool, _config(_all_roles(_model(server))), client=_client())
        stats, written = server.stats.as_dict(), server.memory.written_queries()
    total = 4 * PER_KIND
    assert result.offline is False and len(result.trajectories) + len(result.rejects) == total
    assert len(result.trajectories) >= max(0.8 * total, len(offline.trajectories) - 2), result.rejects
    assert all(r.reason and r.detail for r in result.rejects)
    assert stats["by_role"]["query_writer"] >= total and stats["by_role"]["call_writer"] >= 3 * PER_KIND
    assert stats["by_role"]["teacher"] >= total
    if bad_rate:
        assert {"ungrounded", "invalid_json", "empty"} <= set(stats["by_bad_answer"]), stats["by_bad_answer"]
    kinds = set()
    for trajectory in result.trajectories:
        kind, query = trajectory.metadata["category"], trajectory.messages[1].content
        kinds.add(kind)
        assert query in written, "every stored query is the model's text"
        assert trajectory.metadata["models"] == {"query_writer": MODEL, "teacher": MODEL,
                                                 "call_writer": "offline" if kind == "irrelevance" else MODEL}
        assert trajectory.metadata["offline"] is False
        calls = trajectory.assistant_calls
        schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in trajectory.tools}
        assert ungrounded_values(list(calls), schemas, [query], set()) == [], (query, calls)
        text = json.dumps(trajectory.to_openai_messages())
        assert "reference_calls" not in text and LEAK_TEXT.strip() not in text
        if kind == "parallel":
            steps = [m for m in trajectory.messages if m.tool_calls]
            assert len(steps) == 1 and len(steps[0].tool_calls) >= 2, "parallel calls stay in one message"
        if kind == "irrelevance":
            assert not calls and trajectory.messages[-1].content
            target = bfcl_pool.spec(trajectory.metadata["target_function"])
            assert target.name not in {tool["function"]["name"] for tool in trajectory.tools}
    assert kinds == {"single", "parallel", "multiple", "irrelevance"}


def test_only_the_query_writer_on_a_model_keeps_the_offline_calls(bfcl_pool, offline):
    """The calls are the drafts the offline run makes (same seed); the query and nothing else is the model's."""
    with FakeServerThread(FakeServerConfig(answers=AnswerRules(mode="roles"))) as server:
        result = generate_single_turn(bfcl_pool, _config(RoleModels(query_writer=_model(server)), irrelevance=0),
                                      client=_client())
        assert set(server.stats.by_role) == {"query_writer"}
        written = server.memory.written_queries()
    offline_calls = {t.trajectory_id: t.assistant_calls for t in offline.trajectories}
    compared = 0
    for trajectory in result.trajectories:
        assert trajectory.metadata["models"] == {"query_writer": MODEL, "call_writer": "offline", "teacher": "offline"}
        assert trajectory.messages[1].content in written
        if trajectory.trajectory_id in offline_calls:
            assert trajectory.assistant_calls == offline_calls[trajectory.trajectory_id]
            compared += 1
    assert compared >= 2 * PER_KIND


def test_an_ungrounded_query_is_re_asked_then_rejected_with_every_attempt():
    pool = load_pool("bfcl", "MathAPI")
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern="You play the user", content=json.dumps({"query": "Please work it out for me."}), target="prompt"),))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        config = _config(RoleModels(query_writer=_model(server)), single=1, parallel=0, multiple=0, irrelevance=0,
                         max_reasks=2)
        result = generate_single_turn(pool, config, client=_client())
        assert server.stats.chat_requests == 3
    reject = result.rejects[0]
    assert not result.trajectories and reject.stage == "single_turn" and reject.reason == "query_writer_unusable"
    assert "3 unusable answers" in reject.detail and reject.detail.count("must state the values") == 3


def test_a_guessed_call_value_is_re_asked_and_the_call_read_again():
    """The call writer's first answer guesses a value the query never gave; the error goes back and the
    second answer, read from the query, is the reference call."""
    pool = load_pool("bfcl", "MathAPI")
    config = _config(RoleModels(), single=1, parallel=0, multiple=0, irrelevance=0)
    expected = generate_single_turn(pool, config).trajectories[0].assistant_calls[0]  # the offline draft
    query = f"Please work this out with {json.dumps(expected.arguments)}."
    guessed = {name: GUESSED_NUMBER for name in expected.arguments}
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern="You play the user", content=json.dumps({"query": query}), target="prompt"),
        ScriptRule(pattern="could not be used", tool_calls=({"name": expected.name, "arguments": expected.arguments},)),
        ScriptRule(pattern="You turn a user", tool_calls=({"name": expected.name, "arguments": guessed},), target="prompt"),
    ))
    with FakeServerThread(FakeServerConfig(answers=rules, record_requests=True)) as server:
        model = _model(server)
        both = config.model_copy(update={"models": RoleModels(query_writer=model, call_writer=model)})
        result = generate_single_turn(pool, both, client=_client())
        feedback = [m["content"] for body in server.server.recorded for m in body["messages"]
                    if "could not be used" in str(m.get("content"))]
    assert not result.rejects, result.rejects
    trajectory = result.trajectories[0]
    assert trajectory.messages[1].content == query and list(trajectory.assistant_calls) == [expected]
    assert len(feedback) == 1 and "the request does not give the values" in feedback[0] and str(GUESSED_NUMBER) in feedback[0]
    assert expected.name not in feedback[0], "the feedback names values, never identifiers"
    assert trajectory.metadata["models"] == {"query_writer": MODEL, "call_writer": MODEL, "teacher": "offline"}
