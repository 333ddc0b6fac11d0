"""The LLM judge: answer validation as a pure function (good and hostile answers), and one run end to end
through the shared LLM client (litellm over HTTP) against the project's local OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest

from magnet_core.graph.edges import DependencyKind
from magnet_core.graph.llm_judge import JudgeAnswerError, LLMDependencyJudge, build_judge_request, parse_judge_answer
from magnet_core.graph.stage import GraphStageConfig, build_graph


@pytest.fixture
def travel(bfcl_pool):
    by_name = bfcl_pool.by_name
    source = by_name["TravelAPI.authenticate_travel"]
    candidates = [by_name[f"TravelAPI.{n}"] for n in ("book_flight", "cancel_booking", "list_all_airports")]
    return source, candidates


def answer(*items) -> str:
    return json.dumps({"dependencies": list(items)})


GOOD = {"target": "TravelAPI.book_flight", "kind": "value", "feeds": [{"output_field": "access_token", "parameter": "access_token"}],
        "confidence": 0.95, "reason": "the token authorises the booking"}


def test_good_answer_becomes_edges(travel):
    source, candidates = travel
    premise = {"target": "TravelAPI.cancel_booking", "kind": "premise", "feeds": [], "reason": "log in first"}
    edges, problems = parse_judge_answer(answer(GOOD, premise), source, candidates, "llm:test")
    assert problems == []
    assert [(e.target, e.kind) for e in edges] == [("TravelAPI.book_flight", DependencyKind.VALUE), ("TravelAPI.cancel_booking", DependencyKind.PREMISE)]
    assert edges[0].value_feeds() == [("access_token", "access_token")] and edges[0].score == 0.95 and edges[0].judge == "llm:test"
    fenced = "```json\n" + answer(GOOD) + "\n```"
    assert parse_judge_answer(fenced, source, candidates, "llm:test")[0] == edges[:1]


@pytest.mark.parametrize("text", ["", "   ", "Sure! book_flight depends on it.", "[1, 2]", '{"deps": []}', '{"dependencies": "all"}', "{'dependencies': []}"])
def test_unusable_answers_raise(travel, text):
    source, candidates = travel
    with pytest.raises(JudgeAnswerError):
        parse_judge_answer(text, source, candidates, "llm:test")


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({**GOOD, "target": "TravelAPI.teleport"}, "not one of the candidates"),
        ({**GOOD, "target": "TwitterAPI.post_tweet"}, "not one of the candidates"),
        ({**GOOD, "target": "TravelAPI.authenticate_travel"}, "self loop"),
        ({**GOOD, "target": 42}, "target must be a string"),
        ({**GOOD, "kind": "maybe"}, "kind must be"),
        ({**GOOD, "kind": 5}, "kind must be"),
        ({**GOOD, "confidence": "high"}, "confidence"),
        ({**GOOD, "confidence": 7}, "confidence"),
        ({**GOOD, "confidence": True}, "confidence"),
        ({**GOOD, "feeds": "access_token"}, "feeds must be a list"),
        ({**GOOD, "feeds": [{"output_field": "secret_sauce", "parameter": "access_token"}]}, "returns no field"),
        ({**GOOD, "feeds": [{"output_field": "access_token", "parameter": "api_key"}]}, "has no parameter"),
        ({**GOOD, "feeds": [{"output_field": 1, "parameter": None}]}, "as strings"),
        ({**GOOD, "feeds": []}, "at least one feed"),
        ("book_flight", "not an object"),
    ],
)
def test_hostile_items_are_refused_with_a_reason(travel, item, problem):
    source, candidates = travel
    edges, problems = parse_judge_answer(answer(item, {"target": "TravelAPI.cancel_booking", "kind": "premise"}), source, candidates, "llm:test")
    assert [e.target for e in edges] == ["TravelAPI.cancel_booking"]  # the good item survives its bad neighbour
    assert len(problems) == 1 and problem in problems[0]


def test_duplicates_keep_the_first(travel):
    source, candidates = travel
    edges, problems = parse_judge_answer(answer(GOOD, {**GOOD, "confidence": 0.1}), source, candidates, "llm:test")
    assert len(edges) == 1 and edges[0].score == 0.95 and "twice" in problems[0]


def test_request_carries_prompt_version_and_all_candidates(travel):
    source, candidates = travel
    request = build_judge_request(source, candidates)
    assert request.role == "dependency_judge" and request.prompt_version.startswith("dependency_judge@v1#")
    body = json.loads(request.messages[1]["content"])
    assert body["source"]["name"] == "TravelAPI.authenticate_travel"
    assert [c["name"] for c in body["candidates"]] == [c.qualified_name for c in candidates]


def test_llm_judge_end_to_end_through_client_and_local_server(bfcl_pool):
    """build_graph with the LLM judge: real LLMClient -> litellm -> HTTP -> the project's fake server.

    The server is scripted per source function; one answer is prose and one names an unknown function,
    and both end up as Reject records, not edges."""
    from dataclasses import replace

    from magnet_core.llm.client import LLMClient
    from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
    from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
    from magnet_core.llm.types import ModelConfig

    pool = replace(bfcl_pool, specs=tuple(s for s in bfcl_pool.specs if s.tool_class == "TicketAPI"))
    login_answer = answer({"target": "TicketAPI.create_ticket", "kind": "premise", "feeds": [], "confidence": 0.9, "reason": "log in first"},
                          {"target": "TicketAPI.teleport", "kind": "premise"})
    create_answer = answer({"target": "TicketAPI.close_ticket", "kind": "value", "feeds": [{"output_field": "id", "parameter": "ticket_id"}], "confidence": 0.8})
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern=r'"source": \{"description": "[^"]*", "name": "TicketAPI.ticket_login"', content=login_answer),
        ScriptRule(pattern=r'"source": \{"description": "[^"]*", "name": "TicketAPI.create_ticket"', content=create_answer),
        ScriptRule(pattern=r'"source": \{"description": "[^"]*", "name": "TicketAPI.get_ticket"', content="I think close_ticket needs it."),
        ScriptRule(pattern=r".", content=answer()),
    ))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        judge = LLMDependencyJudge(LLMClient(), ModelConfig(model="openai/fake-model", api_base=server.url, max_retries=0))
        graph = build_graph(pool, GraphStageConfig(judge="llm", record_fingerprint=False), judge=judge)
        requests = server.stats.chat_requests
    assert requests == 9  # one request per function, all candidates in it
    assert sorted(graph.graph.edges()) == [("TicketAPI.create_ticket", "TicketAPI.close_ticket"), ("TicketAPI.ticket_login", "TicketAPI.create_ticket")]
    assert graph.nested_feeds("TicketAPI.create_ticket", "TicketAPI.close_ticket") == [("id", "ticket_id")]
    assert graph.metadata["judge"] == "llm:openai/fake-model" and graph.metadata["offline"] is False
    reasons = sorted((r.item_id, r.reason) for r in graph.rejects)
    assert reasons == [("TicketAPI.get_ticket", "judge_answer_invalid"), ("TicketAPI.ticket_login", "judge_item_invalid")]
