"""Runs people can read, on embedded Prefect with the fake teacher over real litellm/HTTP: a stage that keeps
too little fails the run and its log names the reasons; a retried task's cost row sums its attempts; training
logs its loss per step; the summary says what was made; spend adds up across runs (`magnet costs`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from flows.configs import PipelineConfig
from flows.stage_flows import train_sft_flow, translate_flow

DEFAULT_KEEP_SHARE = PipelineConfig.model_fields["min_keep_share"].default


def test_a_run_that_rejects_every_translated_item_is_failed_and_names_the_reasons(prefect_harness, tmp_path, fake_llm,
                                                                                  make_config, teacher, prefect_reads):
    config = make_config(tmp_path, max_plans=3, shard_size=2, min_keep_share=DEFAULT_KEEP_SHARE,
                         models={"writer": teacher(fake_llm).model_dump()}, roles={"query_writer": "writer"})
    state = translate_flow(config=config, return_state=True)
    assert state.is_failed(), "echo answers are no queries: every translated item is rejected"
    assert "stage translate kept 0 of" in state.message and "query_writer_unusable" in state.message

    flow_run_id = state.state_details.flow_run_id
    logs = prefect_reads.logs_of(flow_run_id, "top reject reasons")
    errors = [m for level, m in logs if level >= 40]
    assert any("kept 0 of" in m and "query_writer_unusable" in m for m in errors), logs
    warnings = [m for level, m in logs if level == 30]
    assert any(m.startswith("translate: ") and "rejected (query_writer_unusable" in m for m in warnings), logs
    assert any(m.startswith("stage translate:") for m in warnings), "the stage summary line"

    summary = prefect_reads.artifacts_of(flow_run_id)["run-summary"][0].data
    assert "status: **Failed**" in summary and "query_writer_unusable" in summary


def test_a_retried_task_costs_the_sum_of_its_attempts(prefect_harness, tmp_path, fake_llm, make_config, teacher,
                                                       prefect_reads):
    fake_llm.server.configure(schedule=(None, "server_error", "server_error"))  # preflight, then two 500s: the first attempt fails
    config = make_config(tmp_path, max_plans=3, shard_size=100,
                         models={"writer": teacher(fake_llm).model_dump()}, roles={"query_writer": "writer"})
    state = translate_flow(config=config, return_state=True)
    assert state.is_completed(), state.message
    flow_run_id = state.state_details.flow_run_id

    artifacts = prefect_reads.artifacts_of(flow_run_id)
    [row] = [r for r in prefect_reads.table_rows(artifacts["task-costs"][0]) if r["stage"] == "translate"]
    [task_run] = [t for t in prefect_reads.task_runs_of(flow_run_id) if t.name.startswith("translate")]
    assert row["task_run"] == task_run.name and row["task_run_id"] == str(task_run.id)
    assert row["attempts"] == task_run.run_count == 2, "Prefect retried the shard once"
    assert "AwaitingRetry" in prefect_reads.state_history(task_run.id)

    everything = pd.concat([pd.read_parquet(p) for p in tmp_path.glob("work/runs/*/ledger/*.parquet")])
    ledger = everything[everything["task_run_id"] == str(task_run.id)]  # the rest: the preflight probe
    assert len(everything) - len(ledger) == 1 and set(ledger["attempt"]) == {1, 2}
    assert row["calls"] == len(ledger) and (~everything["cached"]).sum() == fake_llm.stats.chat_requests, \
        "every call of both attempts: the retry's cache hits are calls too, costing nothing"
    assert row["failed_calls"] == 2 and row["calls"] > row["failed_calls"]
    assert abs(row["cost_usd"] - ledger["cost_usd"].sum()) < 1e-9 and row["cost_usd"] > 0
    first_attempt = ledger[ledger["attempt"] == 1]
    assert 0 < len(first_attempt) < len(ledger), "the failed attempt's calls are counted too"

    again = translate_flow(config=config.model_copy(update={"run_name": "second", "shard_size": 2}), return_state=True)
    assert again.is_completed()
    spend = prefect_reads.table_rows(prefect_reads.artifacts_of(again.state_details.flow_run_id)["spend-across-runs"][0])
    assert [r["run"] for r in spend][-1] == "second" and len(spend) == 2
    assert abs(spend[-1]["cumulative_usd"] - sum(r["cost_usd"] for r in spend)) < 1e-6
    printed = subprocess.run([str(Path(sys.executable).parent / "magnet"), "costs", "--workdir", str(tmp_path / "work")],
                             capture_output=True, text=True, timeout=120)
    assert printed.returncode == 0, printed.stderr
    assert "second" in printed.stdout and f"${spend[-1]['cumulative_usd']:.6f}" in printed.stdout


def test_training_logs_its_loss_per_step_and_the_summary_says_what_was_made(prefect_harness, tmp_path, make_config,
                                                                            prefect_reads):
    config = make_config(tmp_path, max_plans=3, shard_size=100, training={"sft_max_steps": 2, "max_length": 1024})
    state = train_sft_flow(config=config, return_state=True)
    assert state.is_completed(), state.message
    flow_run_id = state.state_details.flow_run_id
    logs = prefect_reads.logs_of(flow_run_id, "sft: 2 steps")
    steps = [m for level, m in logs if level == 20 and m.startswith("step ") and "loss" in m]
    assert [m.split(":")[0] for m in steps if "train_loss" not in m] == ["step 1/2", "step 2/2"], logs
    assert any(m.startswith("stage translate:") for _, m in logs)

    summary = prefect_reads.artifacts_of(flow_run_id)["run-summary"][0].data
    result = state.result()
    assert f"dataset version: `{result['dataset_version']}`" in summary
    assert f"SFT: 2 steps, final loss {result['sft_final_loss']:.4f}" in summary
    assert "wall time:" in summary and "sft " in summary.split("dataset version")[1].split("\n")[0]
