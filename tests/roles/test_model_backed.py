"""Model-backed teacher and negative sampler: the real litellm client over HTTP to the project's local
OpenAI-compatible server in hint mode, plus malformed teacher output landing in rejects with a reason."""

from __future__ import annotations

import json

import pytest

from magnet_core.distill.stage import DistillConfig, distill
from magnet_core.llm.client import LLMClient
from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.llm.retry import RetryPolicy
from magnet_core.llm.types import ModelConfig
from magnet_core.roles.llm_role import RoleModels
from magnet_core.roles.teacher import REFUSAL_TEXT


@pytest.fixture()
def server():
    with FakeServerThread(FakeServerConfig(answers=AnswerRules(mode="hint"))) as running:
        yield running


def _model(server) -> ModelConfig:
    return ModelConfig(model="openai/fake-teacher", api_base=server.url, timeout_s=10.0, max_retries=1)


def _client() -> LLMClient:
    return LLMClient(retry=RetryPolicy(base_delay_s=0.002, max_delay_s=0.02, max_retry_after_s=0.05))


def _items(translated_offline, count=4):
    """Short scenarios keep the HTTP round trips few; include one with a missing-info turn."""
    items = sorted(translated_offline.translated, key=lambda x: sum(len(t.reference_calls) + 1 for t in x.turns))
    with_miss = next(x for x in items if any(t.label.value != "normal" for t in x.turns))
    return [with_miss, *[x for x in items if x is not with_miss][: count - 1]]


def test_teacher_through_litellm_in_hint_mode(bfcl_pool, translated_offline, server):
    items = _items(translated_offline)
    model = _model(server)
    config = DistillConfig(seed=3, models=RoleModels(teacher=model, negative_sampler=model), pairs_per_scenario=1)
    result = distill(bfcl_pool, items, config, client=_client())
    assert server.stats.chat_requests > 0
    assert result.offline is False
    assert len(result.trajectories) == len(items), result.rejects
    offline = {t.scenario_id: t for t in distill(bfcl_pool, items, DistillConfig(seed=3)).trajectories}
    for trajectory in result.trajectories:
        assert trajectory.metadata["models"]["teacher"] == "openai/fake-teacher"
        assert trajectory.metadata["offline"] is False
        assert trajectory.assistant_calls == offline[trajectory.scenario_id].assistant_calls  # reproduced the references
        text = json.dumps(trajectory.to_openai_messages()).lower()
        assert "reference_calls" not in text and "hint" not in text
        assert all(len(m.tool_calls) <= 1 for m in trajectory.messages)
    assert result.pairs and all(p.metadata["models"]["negative_sampler"] == "openai/fake-teacher" for p in result.pairs)


def test_malformed_teacher_arguments_land_in_rejects(bfcl_pool, translated_offline):
    broken = ({"id": "call_0", "type": "function", "function": {"name": "ls", "arguments": "{not json"}},)
    rules = AnswerRules(mode="script", script=(ScriptRule(pattern=".*", tool_calls=broken, target="prompt"),))
    items = _items(translated_offline, 2)
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        config = DistillConfig(seed=3, models=RoleModels(teacher=_model(server)))
        result = distill(bfcl_pool, items, config, client=_client())
    assert not result.trajectories
    assert len(result.rejects) == len(items)
    for reject in result.rejects:
        assert reject.stage == "distill" and reject.reason == "teacher_unusable"
        assert "arguments are not valid JSON" in reject.detail


def test_teacher_calling_an_unknown_function_is_re_asked_then_rejected_with_every_attempt(bfcl_pool, translated_offline):
    items = _items(translated_offline, 1)
    with FakeServerThread(FakeServerConfig(answers=AnswerRules(mode="hint"), schedule=("unknown_function",) * 3)) as server:
        config = DistillConfig(seed=3, pairs_per_scenario=0, max_reasks=2, models=RoleModels(teacher=_model(server)))
        result = distill(bfcl_pool, items, config, client=_client())
        assert server.stats.chat_requests == 3  # the first answer and two re-asks, then the item is rejected
    assert not result.trajectories
    reject = result.rejects[0]
    assert reject.reason == "teacher_unusable" and "3 unusable answers" in reject.detail
    assert [f"attempt {n}:" in reject.detail for n in (1, 2, 3)] == [True] * 3
    assert reject.detail.count("function_that_does_not_exist") == 3


def test_one_unknown_function_answer_is_recovered_by_a_re_ask(bfcl_pool, translated_offline):
    items = _items(translated_offline, 1)
    with FakeServerThread(FakeServerConfig(answers=AnswerRules(mode="hint"), schedule=("unknown_function",))) as server:
        result = distill(bfcl_pool, items, DistillConfig(seed=3, pairs_per_scenario=0, models=RoleModels(teacher=_model(server))),
                         client=_client())
    assert len(result.trajectories) == 1 and not result.rejects


def test_configured_model_without_client_is_a_clear_error(bfcl_pool, translated_offline):
    model = ModelConfig(model="openai/x", api_base="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="no LLM client"):
        distill(bfcl_pool, translated_offline.translated[:1], DistillConfig(models=RoleModels(teacher=model)))


def test_query_and_call_writers_through_litellm(bfcl_pool):
    from magnet_core.domain import FunctionSignaturePath, Plan, PlanTurn
    from magnet_core.translate.stage import TranslateConfig, translate_plans

    call = ({"id": "c0", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 40}'}},)
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern="You play the user", content='{"query": "What do 2 and 40 add up to?"}', target="prompt"),
        ScriptRule(pattern="You turn a user's request", tool_calls=call, target="prompt"),
    ))
    plan = Plan(plan_id="sum", path=FunctionSignaturePath(nodes=("MathAPI.add",), seed=0), turns=(PlanTurn(functions=("MathAPI.add",)),))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        model = _model(server)
        config = TranslateConfig(models=RoleModels(query_writer=model, call_writer=model))
        result = translate_plans(bfcl_pool, [plan], config, client=_client())
    assert result.offline is False and not result.rejects
    turn = result.translated[0].turns[0]
    assert turn.query == "What do 2 and 40 add up to?"
    assert turn.results[0].ok and turn.results[0].output == {"result": 42}
    assert result.translated[0].models["call_writer"] == "openai/fake-teacher"


def test_model_teacher_calls_the_announced_function(bfcl_pool, server, unlock_plan):
    """The announced function joins the teacher's request tools from its turn on, never the stored tools."""
    from magnet_core.translate.stage import TranslateConfig, translate_plans

    items = translate_plans(bfcl_pool, [unlock_plan], TranslateConfig(seed=1)).translated
    model = _model(server)
    result = distill(bfcl_pool, items, DistillConfig(seed=1, pairs_per_scenario=0, models=RoleModels(teacher=model)),
                     client=_client())
    assert len(result.trajectories) == 1, result.rejects
    trajectory = result.trajectories[0]
    assert [c.name for c in trajectory.assistant_calls] == ["add", "multiply"]
    assert "multiply" not in {tool["function"]["name"] for tool in trajectory.tools}


def test_call_writer_reads_the_pending_ask_for_the_announced_function(bfcl_pool, unlock_plan):
    from magnet_core.translate.stage import TranslateConfig, translate_plans

    add = ({"id": "c0", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 40}'}},)
    multiply = ({"id": "c1", "type": "function", "function": {"name": "multiply", "arguments": '{"a": 6, "b": 7}'}},)
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern="You play the user.*multiply", content='{"query": "And what is 6 times 7?"}', target="prompt"),
        ScriptRule(pattern="You play the user", content='{"query": "What do 2 and 40 add up to?"}', target="prompt"),
        ScriptRule(pattern="You turn a user's request.*6 times 7", tool_calls=multiply, target="prompt"),
        ScriptRule(pattern="You turn a user's request", tool_calls=add, target="prompt"),
    ))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        model = _model(server)
        config = TranslateConfig(models=RoleModels(query_writer=model, call_writer=model))
        result = translate_plans(bfcl_pool, [unlock_plan], config, client=_client())
    assert not result.rejects, result.rejects
    first, miss, unlock = result.translated[0].turns
    assert miss.query == "And what is 6 times 7?" and not miss.reference_calls
    assert unlock.announced_functions == ("MathAPI.multiply",) and '"name": "multiply"' in unlock.query  # offline template
    assert unlock.results[0].ok and unlock.results[0].output == {"result": 42}


def test_mined_negatives_from_a_student_labelled_by_the_judge(bfcl_pool, translated_offline):
    """A student that answers in text where calls were needed: the offline judge labels the turn, and
    with an LLM judge configured its JSON verdict is parsed and recorded."""
    items = [x for x in _items(translated_offline, 6) if x.turns[0].reference_calls][:2]
    verdict = '{"error_type": 5, "reason": "answered in text instead of calling the offered function"}'
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern="You review one assistant turn", content=verdict, target="prompt"),
        ScriptRule(pattern=".*", content="Sure, that should be fine.", target="prompt"),
    ))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        model = _model(server)
        offline_judge = distill(bfcl_pool, items, DistillConfig(seed=3, pairs_per_scenario=0, student=model), client=_client())
        llm_judge = distill(bfcl_pool, items, DistillConfig(seed=3, pairs_per_scenario=0, student=model,
                                                             models=RoleModels(error_judge=model)), client=_client())
    for result in (offline_judge, llm_judge):
        assert len(result.pairs) == len(items)
        for pair in result.pairs:
            assert pair.metadata["negative_source"] == "mined" and pair.metadata["offline"] is False
            assert pair.metadata["models"]["student"] == "openai/fake-teacher"
            assert pair.error_type == "missing_info_misjudged" and pair.differing_turn == 0
            # the judged refusal (no calls) is the misleading hint of the second pass: the offline negative
            # sampler refuses in template text, and the metadata says the text is a template
            assert not pair.rejected[0].tool_calls and pair.rejected[-1].content in REFUSAL_TEXT
            assert pair.metadata["models"]["negative_sampler"] == "offline" and pair.metadata["template_text"][-1] == "rejected"
    assert all(p.reason.startswith("answered in text") for p in llm_judge.pairs)
    assert all(p.reason.startswith("refused") for p in offline_judge.pairs)


def test_single_turn_samples_with_a_model_teacher(bfcl_pool, server):
    from magnet_core.distill.single_turn import SingleTurnConfig, generate_single_turn

    config = SingleTurnConfig(seed=4, single=2, parallel=0, multiple=2, irrelevance=1, models=RoleModels(teacher=_model(server)))
    result = generate_single_turn(bfcl_pool, config, client=_client())
    assert result.offline is False and server.stats.chat_requests >= 4
    assert len(result.trajectories) + len(result.rejects) == 5 and len(result.trajectories) >= 3
    for trajectory in result.trajectories:
        assert trajectory.metadata["models"]["teacher"] == "openai/fake-teacher" and trajectory.metadata["offline"] is False
        if trajectory.metadata["category"] != "irrelevance":
            assert len(trajectory.assistant_calls) == 1


def test_a_permanent_model_error_rejects_the_item_not_the_run(bfcl_pool, translated_offline):
    items = _items(translated_offline, 2)
    with FakeServerThread(FakeServerConfig(answers=AnswerRules(mode="hint"), schedule=("bad_request",))) as server:
        result = distill(bfcl_pool, items, DistillConfig(seed=3, pairs_per_scenario=0, models=RoleModels(teacher=_model(server))),
                         client=_client())
    assert len(result.trajectories) == 1
    reject = next(r for r in result.rejects if r.reason == "llm_error")
    assert reject.stage == "distill" and "LLMRequestError" in reject.detail  # one bad request, not a bad setup
