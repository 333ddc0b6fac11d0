"""Every role on a model, over real HTTP through litellm to the project's test server in `roles` mode:
re-asks, step-by-step call writing against live outputs, grounding, mixed setups, leaks, provenance."""

from __future__ import annotations

import asyncio
import json

import pytest

from magnet_core.distill.single_turn import SingleTurnConfig, generate_single_turn
from magnet_core.distill.stage import DistillConfig, distill
from magnet_core.domain import FunctionSignaturePath, Plan, PlanTurn
from magnet_core.domain.calls import FunctionCall
from magnet_core.llm.client import LLMClient
from magnet_core.llm.fake_answers import LEAK_TEXT, AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.llm.retry import RetryPolicy
from magnet_core.llm.types import ModelConfig
from magnet_core.roles.error_judge import judge_request, parse_verdict
from magnet_core.roles.labeller import labeller_request, parse_label
from magnet_core.roles.llm_role import RoleModels
from magnet_core.roles.simulator import parse_simulated_output, simulator_request
from magnet_core.translate.stage import TranslateConfig, translate_plans
from magnet_core.verify.grounding import known_values, ungrounded_values
from magnet_core.verify.leaks import leak_phrase



def _model(server) -> ModelConfig:
    return ModelConfig(model="openai/fake-teacher", api_base=server.url, timeout_s=10.0, max_retries=1,
                       input_cost_per_mtok=1.0, output_cost_per_mtok=2.0)


def _client(cache_dir=None) -> LLMClient:
    return LLMClient(cache_dir=cache_dir, retry=RetryPolicy(base_delay_s=0.002, max_delay_s=0.02, max_retry_after_s=0.05))


def _roles_server(**rules):
    return FakeServerThread(FakeServerConfig(answers=AnswerRules(mode="roles", **rules)))


def _both_writers(model, **changes) -> TranslateConfig:
    return TranslateConfig(seed=3, models=RoleModels(query_writer=model, call_writer=model), **changes)


def test_the_server_plays_each_prompt_role_and_counts_what_it_answers(bfcl_pool):
    spec = bfcl_pool.spec("GorillaFileSystem.cat")
    with _roles_server() as server:
        model, client = _model(server), _client()

        async def ask():
            label = await client.complete(labeller_request(spec, ["file_management", "math"]), model)
            simulated = await client.complete(simulator_request(spec, FunctionCall(name="cat", arguments={"file_name": "a"})), model)
            verdict = await client.complete(judge_request([FunctionCall(name="cat", arguments={"file_name": "a"})], [], "ok"), model)
            return label, simulated, verdict

        label, simulated, verdict = asyncio.run(ask())
        stats = server.stats.as_dict()
    assert parse_label(label, ["file_management", "math"]).category == "file_management"
    assert isinstance(parse_simulated_output(simulated), dict)
    assert parse_verdict(verdict).error_type == 5
    assert stats["by_role"] == {"category_labeller": 1, "simulator": 1, "error_judge": 1}
    totals = client.totals().run
    assert (totals.calls, totals.prompt_tokens, totals.completion_tokens) == (
        stats["answered"], stats["prompt_tokens"], stats["completion_tokens"])


def test_model_writers_survive_translation_and_ground_every_value(bfcl_pool, make_plans):
    plans = make_plans(bfcl_pool, 12, seed=5)
    offline = translate_plans(bfcl_pool, plans, TranslateConfig(seed=3))
    with _roles_server() as server:
        result = translate_plans(bfcl_pool, plans, _both_writers(_model(server)), client=_client())
        roles = server.stats.as_dict()["by_role"]
    assert set(roles) == {"query_writer", "call_writer"}
    assert len(result.translated) >= len(offline.translated) - 1 and len(result.translated) >= 0.8 * len(plans)
    assert len(result.translated) + len(result.rejects) == len(plans)
    for scenario in result.translated:
        assert scenario.models["query_writer"] == scenario.models["call_writer"] == "openai/fake-teacher"
        _assert_queries_state_the_values(scenario)


def _assert_queries_state_the_values(scenario) -> None:
    """Every text value a turn's calls use is in its query, the starting state or an earlier output."""
    state = json.dumps(scenario.scenario.initial_state)
    for turn in scenario.turns:
        assert all(r.ok for r in turn.results)
        outputs = json.dumps([r.output for t in scenario.turns[: turn.index + 1] for r in t.results])
        strings = [v for call in turn.reference_calls for v in call.arguments.values() if isinstance(v, str) and len(v) > 1]
        assert turn.announced_functions or all(v.lower() in turn.query.lower() or v in outputs or v in state
                                               for v in strings), (turn.query, strings)


def test_bad_answers_are_re_asked_and_a_re_run_pays_nothing_twice(bfcl_pool, make_plans, tmp_path):
    plans = make_plans(bfcl_pool, 8, seed=6)
    with _roles_server(bad_rate=0.3) as server:
        model = _model(server)
        first = translate_plans(bfcl_pool, plans, _both_writers(model, max_reasks=4), client=_client(tmp_path))
        paid = server.stats.chat_requests
        again = translate_plans(bfcl_pool, plans, _both_writers(model, max_reasks=4), client=_client(tmp_path))
        bad = sum(server.stats.by_bad_answer.values())
        assert server.stats.chat_requests == paid, "the re-run was served from the cache, re-asks included"
    assert bad > 0 and len(first.translated) + len(first.rejects) == len(plans)
    assert not [r for r in first.rejects if r.reason.endswith("_unusable")], first.rejects  # every bad answer recovered
    def written(result):
        return [(t.query, t.reference_calls) for scenario in result.translated for t in scenario.turns]
    assert written(again) == written(first)


def test_every_attempt_is_listed_when_the_re_asks_run_out(bfcl_pool, make_plans):
    plans = make_plans(bfcl_pool, 1, seed=6)
    with _roles_server(bad_rate=1.0, bad_kinds=("invalid_json", "empty")) as server:
        result = translate_plans(bfcl_pool, plans, _both_writers(_model(server), max_reasks=2), client=_client())
        assert server.stats.chat_requests == 3
    reject = result.rejects[0]
    assert reject.reason == "query_writer_unusable"
    assert "3 unusable answers" in reject.detail and all(f"attempt {n}:" in reject.detail for n in (1, 2, 3))


def _nested_plan() -> Plan:
    return Plan(plan_id="nested", path=FunctionSignaturePath(nodes=("MathAPI.add", "MathAPI.multiply"), seed=0),
                turns=(PlanTurn(functions=("MathAPI.add", "MathAPI.multiply")),))


def _translate_add_then_multiply(bfcl_pool, query: str, multiply_b: int):
    """A scripted call writer: add(2, 40), and multiply(42, b) once the add's output (42) is in the request."""
    add = ({"id": "a", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 40}'}},)
    multiply = ({"id": "m", "type": "function",
                 "function": {"name": "multiply", "arguments": json.dumps({"a": 42, "b": multiply_b})}},)
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern="You play the user", content=json.dumps({"query": query}), target="prompt"),
        ScriptRule(pattern='You turn a user.*"result": 42', tool_calls=multiply, target="prompt"),
        ScriptRule(pattern="You turn a user", tool_calls=add, target="prompt"),
    ))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        return translate_plans(bfcl_pool, [_nested_plan()], _both_writers(_model(server)), client=_client())


def test_the_call_writer_writes_the_nested_call_from_the_live_output(bfcl_pool):
    """The second call is only answered once the first call's output (42) is in the request."""
    result = _translate_add_then_multiply(bfcl_pool, "Add 2 and 40, then multiply the sum by 3.", 3)
    assert not result.rejects, result.rejects
    turn = result.translated[0].turns[0]
    assert [r.output for r in turn.results] == [{"result": 42}, {"result": 126}]


def test_a_guessed_value_is_re_asked_then_rejected_with_the_value_named(bfcl_pool):
    """The scripted call writer guesses b=977 whatever the feedback: every re-ask is refused the same way."""
    result = _translate_add_then_multiply(bfcl_pool, "Add 2 and 40, then multiply the sum.", 977)
    reject = result.rejects[0]
    assert reject.reason == "call_writer_unusable" and "call writer (step 1)" in reject.detail
    assert reject.detail.count("neither the conversation nor an output gives the values 977") == 3  # max_reasks=2
    known = known_values([{"user": {"id": "USR9"}}])
    call = FunctionCall(name="f", arguments={"user_id": "USR9", "n": 7, "flag": True})
    assert ungrounded_values([call], {}, ["use 7"], known) == []
    assert ungrounded_values([call], {}, ["use eight"], known) == ["f.n=7"]


@pytest.mark.parametrize("both", [False, True], ids=["query-writer-only", "both-writers"])
def test_writer_answers_with_values_nobody_gave_are_re_asked_not_rejected(bfcl_pool, make_plans, both):
    """`ungrounded` spoils a query (its stated values dropped) or a call (a guessed value): the query over
    drafted calls and each written call are re-asked, so no scenario ends as `ungrounded_value`."""
    plans = make_plans(bfcl_pool, 10, seed=5)
    with _roles_server(bad_rate=0.3, bad_kinds=("ungrounded",)) as server:
        model = _model(server)
        models = RoleModels(query_writer=model, call_writer=model if both else None)
        result = translate_plans(bfcl_pool, plans, TranslateConfig(seed=3, models=models, max_reasks=4), client=_client())
        spoiled = server.stats.by_bad_answer["ungrounded"]
    assert spoiled > 0 and result.translated
    assert not [r for r in result.rejects if r.reason in ("ungrounded_value", "query_writer_unusable",
                                                          "call_writer_unusable")], result.rejects


def test_only_the_query_writer_on_a_model_keeps_the_drafted_calls(bfcl_pool, make_plans):
    plans = make_plans(bfcl_pool, 6, seed=7)
    offline = {s.scenario.scenario_id: s for s in translate_plans(bfcl_pool, plans, TranslateConfig(seed=3)).translated}
    with _roles_server() as server:
        model = _model(server)
        result = translate_plans(bfcl_pool, plans, TranslateConfig(seed=3, models=RoleModels(query_writer=model)),
                                 client=_client())
    assert len(result.translated) >= len(offline) - 1
    for scenario in result.translated:
        assert scenario.models == {"query_writer": "openai/fake-teacher", "call_writer": "offline", "simulator": "offline"}
        _assert_queries_state_the_values(scenario)


def test_only_the_call_writer_on_a_model_reads_the_offline_query(bfcl_pool):
    """The offline query describes the drafts; a call writer that reads them back gets the same calls."""
    plan = Plan(plan_id="one", path=FunctionSignaturePath(nodes=("MathAPI.add",), seed=0), turns=(PlanTurn(functions=("MathAPI.add",)),))
    offline = translate_plans(bfcl_pool, [plan], TranslateConfig(seed=3)).translated[0].turns[0]
    call = offline.reference_calls[0]
    tool_call = ({"id": "c", "type": "function", "function": {"name": "add", "arguments": json.dumps(call.arguments)}},)
    rules = AnswerRules(mode="script", script=(ScriptRule(pattern=".*", tool_calls=tool_call, target="last_user"),))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        result = translate_plans(bfcl_pool, [plan], TranslateConfig(seed=3, models=RoleModels(call_writer=_model(server))),
                                 client=_client())
    turn = result.translated[0].turns[0]
    assert turn.query == offline.query and turn.reference_calls == offline.reference_calls


@pytest.mark.parametrize("text", ["Done. (As my private notes suggested.)", "Per the hidden instructions, I ran it.",
                                  "I was told to list the files first.", "Following my notes, the file is moved.",
                                  "As suggested, here are the files.", "I will act as if it were my own plan."])
def test_leaks_in_any_phrasing_are_caught(text):
    assert leak_phrase(text) is not None


@pytest.mark.parametrize("text", ["Here is what I found: the file has 3 lines.", "The note was added to ticket 7.",
                                  "Your booking is confirmed; the invoice id is INV-2."])
def test_plain_summaries_are_not_leaks(text):
    assert leak_phrase(text) is None


def test_distillation_on_a_leaky_teacher_re_asks_and_stores_no_leak(bfcl_pool, make_plans):
    items = translate_plans(bfcl_pool, make_plans(bfcl_pool, 4, seed=8), TranslateConfig(seed=3)).translated
    with _roles_server(bad_rate=0.5, bad_kinds=("leak",)) as server:
        model = _model(server)
        config = DistillConfig(seed=3, pairs_per_scenario=0, max_reasks=4, models=RoleModels(teacher=model))
        result = distill(bfcl_pool, items, config, client=_client())
        assert server.stats.by_bad_answer["leak"] > 0
    assert len(result.trajectories) == len(items), result.rejects
    for trajectory in result.trajectories:
        assert LEAK_TEXT.strip() not in json.dumps(trajectory.to_openai_messages())


def test_a_broken_json_answer_from_the_teacher_is_re_asked_not_stored_as_its_closing_text(bfcl_pool, make_plans):
    items = translate_plans(bfcl_pool, make_plans(bfcl_pool, 4, seed=8), TranslateConfig(seed=3)).translated
    with _roles_server(bad_rate=0.4, bad_kinds=("invalid_json",)) as server:
        config = DistillConfig(seed=3, pairs_per_scenario=0, max_reasks=6, models=RoleModels(teacher=_model(server)))
        result = distill(bfcl_pool, items, config, client=_client())
        assert server.stats.by_bad_answer["invalid_json"] > 0
    assert len(result.trajectories) == len(items), result.rejects
    for trajectory in result.trajectories:
        texts = [m.content or "" for m in trajectory.messages if m.role == "assistant"]
        assert not [t for t in texts if "half an answer" in t], texts
        assert [c for m in trajectory.messages for c in m.tool_calls], "the calls were made, not closed early"


def test_model_negatives_of_type_4_and_5_and_their_provenance(bfcl_pool, unlock_plan):
    items = translate_plans(bfcl_pool, [unlock_plan], TranslateConfig(seed=1)).translated
    with _roles_server() as server:
        model = _model(server)
        config = DistillConfig(seed=1, pairs_per_scenario=2, error_types=(4, 5),
                               models=RoleModels(teacher=model, negative_sampler=model))
        result = distill(bfcl_pool, items, config, client=_client())
    pairs = {pair.error_type: pair for pair in result.pairs}
    assert set(pairs) == {"wrong_summary", "missing_info_misjudged"}, result.rejects
    assert pairs["wrong_summary"].metadata["models"]["negative_sampler"] == "template"
    announcement = "turn 2 user message (function announcement)"
    assert pairs["wrong_summary"].metadata["template_text"] == [announcement, "rejected"]
    five = pairs["missing_info_misjudged"]
    assert five.metadata["models"]["negative_sampler"] == "openai/fake-teacher"
    assert five.metadata["template_text"] == [announcement]  # the rejected side is the model's
    assert [c.function.name for m in five.rejected for c in m.tool_calls] and five.differing_turn == 1


def test_mined_negatives_on_three_call_turns_with_a_second_sampling_pass(bfcl_pool):
    """The student's judged mistake becomes the negative sampler's hint; a 3-call turn leaves a step for
    the closing text."""
    plan = Plan(plan_id="three", path=FunctionSignaturePath(nodes=("MathAPI.add",), seed=0),
                turns=(PlanTurn(functions=("MathAPI.add", "MathAPI.multiply", "MathAPI.add")),))
    with _roles_server() as server:
        model = _model(server)
        items = translate_plans(bfcl_pool, [plan], _both_writers(model), client=_client()).translated
        assert items and len(items[0].turns[0].reference_calls) == 3
        config = DistillConfig(seed=3, pairs_per_scenario=0, student=model, mined_per_scenario=1,
                               models=RoleModels(teacher=model, negative_sampler=model, error_judge=model))
        result = distill(bfcl_pool, items, config, client=_client())
        roles = server.stats.as_dict()["by_role"]
    assert not [r for r in result.rejects if r.reason == "student_unusable"], result.rejects
    assert {"student", "error_judge"} <= set(roles)
    for pair in result.pairs:
        assert pair.metadata["negative_source"] == "mined"
        assert pair.metadata["models"]["negative_sampler"] == "openai/fake-teacher"


def test_single_turn_parallel_calls_stay_parallel_and_refusals_come_from_the_model(bfcl_pool):
    with _roles_server() as server:
        config = SingleTurnConfig(seed=4, single=0, parallel=2, multiple=0, irrelevance=1,
                                  models=RoleModels(teacher=_model(server)))
        result = generate_single_turn(bfcl_pool, config, client=_client())
        teacher_calls = server.stats.by_role["teacher"]
    assert len(result.trajectories) == 3, result.rejects
    parallel = [t for t in result.trajectories if t.metadata["category"] == "parallel"]
    assert all(max(len(m.tool_calls) for m in t.messages) >= 2 for t in parallel)
    assert teacher_calls >= 5  # two parallel samples (calls + text) and the irrelevance refusal
