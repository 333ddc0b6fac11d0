"""`graph.judge: llm` through `magnet run` and `magnet graph`, and the category labeller in pool loading,
all over real HTTP against the project's fake server (script mode plays the judge and the labeller)."""

from __future__ import annotations

import json
from dataclasses import replace

import yaml
from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread


def _judge(*items) -> str:
    return json.dumps({"dependencies": list(items)})


def _source(name: str) -> str:
    return r'"source": \{"description": "[^"]*", "name": "TicketAPI.' + name + '"'


JUDGE_RULES = AnswerRules(mode="script", script=(
    ScriptRule(pattern=_source("ticket_login"), target="prompt",
               content=_judge({"target": "TicketAPI.create_ticket", "kind": "premise", "feeds": [], "reason": "log in"})),
    ScriptRule(pattern=_source("create_ticket"), target="prompt", content=_judge(
        {"target": "TicketAPI.close_ticket", "kind": "value", "feeds": [{"output_field": "id", "parameter": "ticket_id"}]})),
    ScriptRule(pattern=r'"dependencies"|candidates', target="prompt", content=_judge()),
    ScriptRule(pattern=r".", target="prompt", content="OK"),
))
EDGES = [("TicketAPI.create_ticket", "TicketAPI.close_ticket"), ("TicketAPI.ticket_login", "TicketAPI.create_ticket")]


def test_magnet_graph_judges_with_the_model_and_a_rerun_is_served_from_cache(tmp_path):
    with FakeServerThread(FakeServerConfig(answers=JUDGE_RULES)) as server:
        args = ["graph", "--pool", "bfcl", "--source", "TicketAPI", "--out", str(tmp_path / "g"), "--no-plans",
                "--judge", "llm", "--teacher", "openai/fake-model", "--api-base", server.url]
        first = CliRunner().invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "judge: llm:openai/fake-model" in first.output and "[offline" not in first.output
        requests = server.stats.chat_requests
        assert requests == 1 + 9, "one probe, then one judge call per function"
        graph = json.loads((tmp_path / "g" / "graph.json").read_text())
        assert sorted((e["source"], e["target"]) for e in graph["graph"]["edges"]) == EDGES
        again = CliRunner().invoke(app, args)
        assert again.exit_code == 0 and server.stats.chat_requests == requests + 1, "judge answers came from the cache"
    refused = CliRunner().invoke(app, ["graph", "--out", str(tmp_path / "h"), "--judge", "llm"])
    assert refused.exit_code != 0 and "--teacher" in refused.output


def test_pipeline_builds_the_graph_with_the_model_judge(prefect_harness, tmp_path, make_config):
    with FakeServerThread(FakeServerConfig(answers=JUDGE_RULES)) as server:
        config = make_config(tmp_path, max_plans=2, pool={"kind": "bfcl", "source": "TicketAPI"}, graph={"judge": "llm"},
                             models={"judge": {"model": "openai/fake-model", "api_base": server.url, "max_retries": 0}},
                             roles={"dependency_judge": "judge"},
                             single_turn={"single": 1, "parallel": 0, "multiple": 0, "irrelevance": 0})
        path = tmp_path / "pipeline.yaml"
        path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
        result = CliRunner().invoke(app, ["run", "--config", str(path)])
        assert result.exit_code == 0, result.output
        assert server.stats.chat_requests == 1 + 9
    summary = json.loads(next(tmp_path.glob("work/runs/*/summary.json")).read_text())
    graph_row = next(row for row in summary["stages"] if row["stage"] == "graph")
    assert graph_row["items_out"] == len(EDGES)
    graph_file = next(p for p in tmp_path.glob("work/artifacts/graph/*.json") if not p.name.endswith("rejects.jsonl"))
    stored = json.loads(graph_file.read_text())
    assert stored["metadata"]["judge"] == "llm:openai/fake-model" and stored["metadata"]["offline"] is False
    from magnet_core.graph.dependency_graph import DependencyGraph

    # Insert's nested-call check reads these value feeds: with the model judge they are the model's
    graph = DependencyGraph.load(graph_file)
    assert graph.nested_feeds("TicketAPI.create_ticket", "TicketAPI.close_ticket") == [("id", "ticket_id")]
    assert graph.nested_feeds("TicketAPI.ticket_login", "TicketAPI.create_ticket") == [], "a premise feeds no value"
    ledger = summary["costs"]["by_model"]
    assert sum(row["calls"] for row in ledger) == 1 + 9, "probe and judge calls are in the ledger"


def test_pool_without_categories_is_labelled_by_the_model(bfcl_pool, tmp_path):
    from magnet_core.llm.client import LLMClient
    from magnet_core.llm.types import ModelConfig
    from magnet_core.pools.labelling import label_pool, unlabelled

    specs = tuple(s.model_copy(update={"category": None}) for s in bfcl_pool.specs if s.tool_class == "TicketAPI")
    pool = replace(bfcl_pool, specs=specs)
    rules = AnswerRules(mode="script", script=(
        ScriptRule(pattern=r'"name": "close_ticket"', target="prompt", content="no idea"),
        ScriptRule(pattern=r".", target="prompt", content='{"category": "customer_support", "tool_class": "TicketAPI"}'),
    ))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        model = ModelConfig(model="openai/fake-model", api_base=server.url, max_retries=0)
        labelled = label_pool(pool, LLMClient(cache_dir=tmp_path), model)
        assert server.stats.chat_requests == len(specs)
        again = label_pool(pool, LLMClient(cache_dir=tmp_path), model)
        assert server.stats.chat_requests == len(specs), "answers are cached"
    assert not unlabelled(labelled) and again.fingerprint() == labelled.fingerprint()
    by_name = labelled.by_name
    assert by_name["TicketAPI.create_ticket"].category == "customer_support"
    assert [i.name for i in labelled.issues if i.location == "category_labeller"] == ["TicketAPI.close_ticket"]
    assert [s.qualified_name for s in labelled.specs] == [s.qualified_name for s in pool.specs], "tool classes kept"
