"""Which roles a run calls decides what runs on a model and what preflight probes, over real HTTP.

A lone `teacher` alias judges the graph (`graph.judge: auto`); an explicit `heuristic` judge keeps the
graph offline; preflight probes only models of roles this run calls; the category labeller runs once
per run through a ledgered client and every later pool load reuses its stored answers.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
from typer.testing import CliRunner

from flows.stage_flows import distill_flow, graph_flow
from magnet_core.cli.main import app
from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread

from .test_model_roles_wired import EDGES, JUDGE_RULES

TICKETS = {"kind": "bfcl", "source": "TicketAPI"}  # every function has a category: the labeller has no work
LABEL = '{"category": "travel", "tool_class": "TravelTools"}'
TOOLS = [{"type": "function", "function": {
    "name": name, "description": description,
    "parameters": {"type": "object", "properties": {param: {"type": "string", "description": param}}, "required": [param]}},
    "response": {"type": "object", "properties": {field: {"type": "string"}}}}
    for name, description, param, field in (
        ("find_city", "Find the city of an airport code.", "code", "city"),
        ("get_weather", "Get the weather forecast for a city.", "city", "forecast"),
        ("plan_trip", "Plan a trip given a forecast.", "forecast", "itinerary"))]


def _model(server) -> dict:
    return {"model": "openai/fake-model", "api_base": server.url, "max_retries": 0, "timeout_s": 10.0,
            "input_cost_per_mtok": 1.0, "output_cost_per_mtok": 2.0}


def _graph_metadata(tmp_path) -> dict:
    path = next(p for p in tmp_path.glob("work/artifacts/graph/*.json"))
    return json.loads(path.read_text())["metadata"]


def _ledger(tmp_path, run_name: str) -> pd.DataFrame:
    parts = sorted(tmp_path.glob(f"work/runs/{run_name}/ledger/*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts]) if parts else pd.DataFrame(columns=["role", "cached"])


def test_a_lone_teacher_judges_the_graph_and_an_explicit_heuristic_keeps_it_offline(prefect_harness, tmp_path,
                                                                                    make_config):
    with FakeServerThread(FakeServerConfig(answers=JUDGE_RULES)) as server:
        config = make_config(tmp_path / "auto", pool=TICKETS, models={"teacher": _model(server)})
        assert config.graph.judge == "auto"
        summary = graph_flow(config=config)
        assert server.stats.chat_requests == 1 + 9, "one probe (translate/distill do not run), one judge call per function"
        metadata = _graph_metadata(tmp_path / "auto")
        assert metadata["judge"] == "llm:openai/fake-model" and metadata["config"]["judge"] == "llm"
        assert summary["preflight_models"] == 1 and not summary["offline"]
        graph_row = next(row for row in summary["stages"] if row["stage"] == "graph")
        assert graph_row["items_out"] == len(EDGES)

        heuristic = make_config(tmp_path / "heuristic", pool=TICKETS, models={"teacher": _model(server)},
                                graph={"judge": "heuristic"})
        summary = graph_flow(config=heuristic)
        assert server.stats.chat_requests == 1 + 9, "heuristic judge, labelled pool: no role is called, nothing probed"
        assert summary["preflight_models"] == 0
        metadata = _graph_metadata(tmp_path / "heuristic")
        assert metadata["offline"] is True and metadata["config"]["judge"] == "heuristic"


def test_magnet_graph_teacher_alone_picks_the_model_judge(tmp_path):
    with FakeServerThread(FakeServerConfig(answers=JUDGE_RULES)) as server:
        base = ["graph", "--pool", "bfcl", "--source", "TicketAPI", "--no-plans"]
        result = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "g"), "--teacher", "openai/fake-model",
                                          "--api-base", server.url])
        assert result.exit_code == 0, result.output
        assert "judge: llm:openai/fake-model" in result.output and server.stats.chat_requests == 1 + 9
        offline = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "h")])
        assert offline.exit_code == 0 and "judge: heuristic-offline [offline" in offline.output
        refused = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "i"), "--judge", "heuristic",
                                           "--teacher", "openai/fake-model", "--api-base", server.url])
        assert refused.exit_code != 0 and "--judge heuristic calls no model" in refused.output
        assert server.stats.chat_requests == 1 + 9


def test_a_labeller_for_a_labelled_pool_is_not_probed(prefect_harness, tmp_path, make_config):
    with FakeServerThread(FakeServerConfig()) as labeller:
        config = make_config(tmp_path, max_plans=2, pool=TICKETS, models={"lab": _model(labeller)},
                             roles={"category_labeller": "lab"}, run_name="labelled")
        summary = graph_flow(config=config)
        assert labeller.stats.chat_requests == 0, "the pool has every category: the labeller is never called"
        assert summary["preflight_models"] == 0 and _ledger(tmp_path, "labelled").empty


def test_the_labeller_runs_once_per_run_on_the_ledger_and_every_load_reuses_its_answers(prefect_harness, tmp_path,
                                                                                          make_config):
    pool_file = tmp_path / "tools.json"
    pool_file.write_text(json.dumps(TOOLS))
    rules = AnswerRules(mode="script", script=(ScriptRule(pattern=r".", target="prompt", content=LABEL),))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        def run(name: str):
            config = make_config(tmp_path, max_plans=2, pool={"kind": "openai-json", "source": str(pool_file)},
                                 models={"lab": _model(server)}, roles={"category_labeller": "lab"}, run_name=name,
                                 single_turn={"single": 1, "parallel": 0, "multiple": 0, "irrelevance": 0})
            return distill_flow(config=config)

        first = run("first")
        assert server.stats.chat_requests == 1 + len(TOOLS), "one probe, one labeller call per function, in all tasks"
        ledger = _ledger(tmp_path, "first")
        assert sorted(ledger["role"]) == ["category_labeller"] * len(TOOLS) + ["preflight"]
        assert not ledger["cached"].any()
        translate = next(row for row in first["stages"] if row["stage"] == "translate")
        assert translate["items_in"] > 0, "later stages loaded the labelled pool"

        second = run("second")
        assert server.stats.chat_requests == 1 + len(TOOLS) + 1, "the re-run paid only its probe"
        ledger = _ledger(tmp_path, "second")
        labeller_rows = ledger[ledger["role"] == "category_labeller"]
        assert len(labeller_rows) == len(TOOLS) and labeller_rows["cached"].all(), "cache hits are on the ledger too"
        assert second["pool"]["fingerprint"] == first["pool"]["fingerprint"]

    # the stored answers alone rebuild the labelled pool: no server, no response cache, no labeller call
    from tasks.outputs import LOADED_POOLS, PoolSettings, describe_pool
    from tasks.refs import ArtifactRef, sha256_bytes

    shutil.rmtree(tmp_path / "work" / "llm-cache")
    LOADED_POOLS.clear()
    [labels] = tmp_path.glob("work/artifacts/pool/*.labels.json")
    ref = ArtifactRef(kind="json", path=str(labels), sha256=sha256_bytes(labels.read_bytes()))
    settings = PoolSettings(kind="openai-json", source=str(pool_file))
    assert describe_pool(settings).unlabelled == len(TOOLS)
    labelled = describe_pool(settings, ref)
    assert labelled.fingerprint == first["pool"]["fingerprint"] and not labelled.issues
    assert set(json.loads(labels.read_text())["categories"].values()) == {"travel"}
