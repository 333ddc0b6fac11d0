"""Flows on embedded Prefect: cross-run cache, ledger and cost artifacts, and the budget cap as a clean stop.

The teacher is the project's fake OpenAI-compatible server reached by real litellm over HTTP, so "no
teacher calls on the re-run" is counted at the server, not inferred.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from flows.stage_flows import translate_flow
from tasks.synthesis_tasks import STAGE_EXECUTIONS


def _run(flow, config):
    state = flow(config=config, return_state=True)
    return state, state.result(raise_on_failure=False)


def _stage(summary, name):
    return next(row for row in summary["stages"] if row["stage"] == name)


SECRET = "sk-magnet-test-secret-7f3a9c"


def test_rerun_is_served_from_cache_without_teacher_calls(prefect_harness, tmp_path, fake_llm, make_config, teacher,
                                                          prefect_reads, monkeypatch):
    monkeypatch.setenv("MAGNET_TEST_TEACHER_KEY", SECRET)
    model = teacher(fake_llm, api_key_env="MAGNET_TEST_TEACHER_KEY").model_dump()
    config = make_config(tmp_path, models={"writer": model}, roles={"query_writer": "writer"})
    executions_before = STAGE_EXECUTIONS.get("translate", 0)
    first_state, first = _run(translate_flow, config)
    assert first_state.is_completed(), first_state.message
    shards = _stage(first, "translate")["shards"]
    assert shards >= 2
    assert STAGE_EXECUTIONS["translate"] - executions_before == shards
    teacher_requests = fake_llm.stats.chat_requests
    assert teacher_requests > 0
    assert first["offline"] is False

    ledger = pd.concat([pd.read_parquet(p) for p in sorted(tmp_path.glob("work/runs/*/ledger/*.parquet"))])
    assert len(ledger) == first["costs"]["calls"] > 0
    assert set(ledger["model"]) == {"openai/fake-model"}
    assert ledger["cost_usd"].sum() > 0
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert not leaked, f"the API key reached {leaked}"

    artifacts = prefect_reads.artifacts_of(first_state.state_details.flow_run_id)
    assert {"cost-by-model", "task-costs", "run-summary", "translate-progress"} <= set(artifacts)
    cost_rows = prefect_reads.table_rows(artifacts["cost-by-model"][0])
    assert cost_rows[0]["model"] == "openai/fake-model" and cost_rows[0]["calls"] == len(ledger)
    task_rows = prefect_reads.table_rows(artifacts["task-costs"][0])
    probes = (ledger["stage"] == "preflight").sum()
    assert probes == 1, "one preflight probe per configured model"
    assert len([r for r in task_rows if r["stage"] == "translate"]) == shards
    assert sum(r["calls"] for r in task_rows) == len(ledger), "shard rows plus the flow's preflight row: every call"
    assert "status: **Completed**" in artifacts["run-summary"][0].data
    assert not any(SECRET in str(a.data) for group in artifacts.values() for a in group)

    second_state, second = _run(translate_flow, config.model_copy(update={"run_name": "rerun"}))
    assert second_state.is_completed()
    assert STAGE_EXECUTIONS["translate"] - executions_before == shards, "no shard recomputed"
    assert fake_llm.stats.chat_requests == teacher_requests + 1, "the re-run made no teacher call but its probe"
    assert _stage(second, "translate")["cached"] == shards
    assert _stage(second, "graph")["cached"] == 1 and _stage(second, "plans")["cached"] == 1
    assert second["costs"]["calls"] == 1
    assert [p.name.split("-")[0] for p in (tmp_path / "work" / "runs" / "rerun" / "ledger").glob("*.parquet")] == ["preflight"]
    states = {run.state_name for run in prefect_reads.task_runs_of(second_state.state_details.flow_run_id)
              if run.name.startswith("translate")}
    assert states == {"Cached"}


def test_budget_cap_ends_the_run_failed_and_a_higher_cap_resumes(prefect_harness, tmp_path, fake_llm, make_config,
                                                                  teacher):
    model = teacher(fake_llm, input_cost_per_mtok=2500.0).model_dump()  # $0.30 per call: 4 calls reach the cap
    # max_reasks=0: the echo server's answers are unusable queries, rejected at once (one paid call per plan)
    config = make_config(tmp_path, max_plans=8, shard_size=2, models={"writer": model}, roles={"query_writer": "writer"},
                         llm={"max_cost_usd": 1.0}, runner={"max_workers": 1}, translate={"max_reasks": 0})
    state, _ = _run(translate_flow, config)
    assert state.is_failed()
    assert "budget cap reached in stage translate" in state.message
    assert "re-run with a higher llm.max_cost_usd" in state.message
    summary = next(tmp_path.glob("work/runs/*/summary.json")).read_text()
    assert '"status": "Failed"' in summary and "unfinished" in summary
    finished_requests = fake_llm.stats.chat_requests

    resumed_state, resumed = _run(translate_flow, config.model_copy(update={"llm": config.llm.model_copy(
        update={"max_cost_usd": None}), "run_name": "resumed"}))
    assert resumed_state.is_completed(), resumed_state.message
    translate = _stage(resumed, "translate")
    assert 1 <= translate["cached"] < translate["shards"], "finished shards came from cache, the rest ran"
    assert fake_llm.stats.chat_requests > finished_requests


@pytest.mark.parametrize("bad", [{"shard_size": 0}, {"runner": {"kind": "thread", "dask_address": "tcp://x:1"}}])
def test_invalid_flow_config_is_refused_before_any_run(tmp_path, make_config, bad):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        make_config(tmp_path, **bad)


def test_evaluate_flow_scores_the_trained_checkpoint_on_bfcl(prefect_harness, tmp_path, make_config, prefect_reads):
    from flows.stage_flows import evaluate_flow

    config = make_config(tmp_path, max_plans=4, single_turn={"single": 2, "parallel": 1, "multiple": 1, "irrelevance": 1},
                         training={"sft_max_steps": 1, "mdpo_max_steps": 1},
                         evaluation={"categories": ["base"], "sample_size": 1, "max_steps_per_turn": 2,
                                     "local_max_new_tokens": 16})
    state, summary = _run(evaluate_flow, config)
    assert state.is_completed(), state.message
    assert Path(summary["evaluation_report"]).is_file()
    assert set(summary["evaluation_accuracy"]) == {"base"}
    assert 0.0 <= summary["evaluation_overall"] <= 100.0
    report = Path(summary["evaluation_report"]).read_text()
    assert "mdpo checkpoint" in report, "the report names the evaluated model: the mDPO checkpoint"
    logs = prefect_reads.logs_of(state.state_details.flow_run_id, "evaluation of the mdpo checkpoint")
    assert any(m.startswith("evaluation of the mdpo checkpoint: overall ") and "base " in m for _, m in logs), logs
