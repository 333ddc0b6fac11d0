"""Costs and a run summary, from the factory's own ledger, as Prefect artifacts and as a JSON file.

Numbers come from this run's ledger parts (Parquet), not from Prefect's task history: a cached shard
made no call in this run and so costs nothing here, which is exactly what a re-run should show. Every
attempt of a task writes its own part tagged with the task run, so a retried task's row sums all its
attempts, and names the task run the UI shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from magnet_core.llm.spend import read_ledger, spend_by_run
from tasks.refs import atomic_write_bytes


def cost_by_model(ledger_dir: Path) -> list[dict[str, Any]]:
    frame = read_ledger(ledger_dir)
    if frame.empty:
        return []
    grouped = frame.groupby("model", sort=True)
    return [
        {
            "model": model,
            "calls": int(len(rows)),
            "cached_calls": int(rows["cached"].sum()),
            "failed_calls": int((rows["status"] == "failed").sum()),
            "prompt_tokens": int(rows["prompt_tokens"].sum()),
            "completion_tokens": int(rows["completion_tokens"].sum()),
            "cost_usd": round(float(rows["cost_usd"].sum()), 6),
            "retries": int(rows["retries"].sum()),
            "mean_latency_s": round(float(rows["latency_s"].mean()), 4),
        }
        for model, rows in grouped
    ]


def task_runs_by_id(task_run_ids: list[str]) -> dict[str, Any]:
    """The task runs as Prefect recorded them (name, run_count), read in requests of 200 (the API's limit)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterId

    ids = [UUID(i) for i in task_run_ids if i]
    if not ids:
        return {}
    found = []
    with get_client(sync_client=True) as client:  # the API answers at most 200 per request
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            found += client.read_task_runs(task_run_filter=TaskRunFilter(id=TaskRunFilterId(any_=chunk)), limit=len(chunk))
    return {str(run.id): run for run in found}


def task_cost_rows(ledger_dir: Path, shards: list[tuple[str, int, str, str, Any]]) -> list[dict[str, Any]]:
    """One row per shard task run `(stage, index, task_run_id, state, output)`: calls and cost over every
    attempt (from the ledger parts tagged with the task run), attempts as Prefect counted them."""
    frame = read_ledger(ledger_dir)
    frame["task_run_id"] = frame["task_run_id"].fillna("") if "task_run_id" in frame else ""
    runs = task_runs_by_id([shard[2] for shard in shards])
    rows = []
    for stage, index, task_run_id, state, output in shards:
        calls = frame[frame["task_run_id"] == task_run_id] if task_run_id else frame.iloc[0:0]
        run = runs.get(task_run_id)
        rows.append({
            "stage": stage, "shard": index, "task_run": run.name if run else "", "task_run_id": task_run_id,
            "state": state, "attempts": run.run_count if run else 0,
            "items_in": output.items_in if output else 0, "items_out": output.items_out if output else 0,
            "rejects": output.rejects if output else 0, **_call_totals(calls)})
    for stage, calls in frame[frame["task_run_id"] == ""].groupby("stage", sort=True):  # e.g. the preflight probes
        rows.append({"stage": stage, "shard": None, "task_run": "(flow run)", "task_run_id": "", "state": "",
                     "attempts": 0, "items_in": 0, "items_out": 0, "rejects": 0, **_call_totals(calls)})
    return rows


def _call_totals(calls) -> dict[str, Any]:
    return {"calls": int(len(calls)), "failed_calls": int((calls["status"] == "failed").sum()),
            "client_retries": int(calls["retries"].sum()),
            "tokens": int(calls["prompt_tokens"].sum() + calls["completion_tokens"].sum()),
            "cost_usd": round(float(calls["cost_usd"].sum()), 8)}


def publish_task_costs(rows: list[dict[str, Any]]) -> None:
    if rows:
        create_table_artifact(table=rows, key="task-costs",
                              description="Per shard task run: state, Prefect attempts, items, and the LLM calls, "
                                          "tokens and cost of all its attempts in this run")


def publish_spend(workdir: Path) -> list[dict[str, Any]]:
    """The spend table across every run of this workdir (also `magnet costs`)."""
    rows = spend_by_run(workdir)
    if rows:
        create_table_artifact(table=rows, key="spend-across-runs",
                              description=f"LLM spend per run and cumulative, from the ledgers under {workdir}/runs")
    return rows


def publish_cost_table(ledger_dir: Path, offline: bool) -> list[dict[str, Any]]:
    rows = cost_by_model(ledger_dir)
    table = rows or [{"model": "offline (no teacher model configured)" if offline else "(no calls: all cached)",
                      "calls": 0, "cost_usd": 0.0}]
    create_table_artifact(table=table, key="cost-by-model",
                          description="LLM calls, tokens and cost per model, from this run's Parquet ledger")
    return rows


def publish_summary(summary: dict[str, Any], run_dir: Path) -> Path:
    path = run_dir / "summary.json"
    atomic_write_bytes(path, json.dumps(summary, indent=2, sort_keys=True, default=str).encode())
    create_markdown_artifact(markdown=summary_markdown(summary), key="run-summary",
                             description="Magnet pipeline run summary")
    return path


def summary_markdown(summary: dict[str, Any]) -> str:
    mode = "**offline default** (no teacher model configured: offline roles)" if summary.get("offline") else "teacher models"
    lines = [f"# Magnet run `{summary.get('run_id')}`", "", f"- status: **{summary.get('status')}**", f"- mode: {mode}"]
    if summary.get("wall_s") is not None:
        lines.append(f"- wall time: {summary['wall_s']:.1f} s")
    if summary.get("dataset_version"):
        counts = ", ".join(f"{k} {v}" for k, v in sorted((summary.get("dataset_counts") or {}).items()))
        lines.append(f"- dataset version: `{summary['dataset_version']}` ({counts})")
    for label, stage in (("SFT", "sft"), ("mDPO", "mdpo")):
        if summary.get(f"{stage}_steps") is not None:
            loss = summary.get(f"{stage}_final_loss")
            lines.append(f"- {label}: {summary[f'{stage}_steps']} steps, final loss "
                         f"{'n/a' if loss is None else f'{loss:.4f}'}" + (f" (on {summary[f'{stage}_where']})"
                                                                         if summary.get(f"{stage}_where") else ""))
    if summary.get("evaluation_overall") is not None:
        scores = ", ".join(f"{k} {v:.3f}" for k, v in sorted((summary.get("evaluation_accuracy") or {}).items()))
        lines.append(f"- evaluation: overall {summary['evaluation_overall']:.3f} ({scores})")
    for label, key in (("dataset", "dataset_path"), ("dataset card", "card_path"), ("ledger", "ledger_dir"),
                       ("SFT checkpoint", "sft_checkpoint"), ("mDPO checkpoint", "mdpo_checkpoint"),
                       ("evaluation", "evaluation_dir")):
        if summary.get(key):
            lines.append(f"- {label}: `{summary[key]}`")
    lines += ["", "| stage | shards | cached | items in | items out | rejects | top reject reasons |",
              "|---|---|---|---|---|---|---|"]
    for stage in summary.get("stages", []):
        reasons = ", ".join(f"{r} {n}" for r, n in list((stage.get("reject_reasons") or {}).items())[:3])
        lines.append(f"| {stage['stage']} | {stage['shards']} | {stage['cached']} | {stage['items_in']} | "
                     f"{stage['items_out']} | {stage['rejects']} | {reasons} |")
    for part, rows in (summary.get("dataset_mixture") or {}).items():
        if rows:
            lines += ["", f"Mixture ({part}): target vs achieved", "", "| category | available | target | achieved | surplus | shortfall | note |",
                      "|---|---:|---:|---:|---:|---:|---|"]
            lines += [f"| {r['category']} | {r['available']} | {r['target_count']:g} | {r['achieved']} | {r.get('surplus', 0)} | "
                      f"{r.get('shortfall', 0)} | {r.get('note', '')} |" for r in rows]
    costs = summary.get("costs", {})
    lines += ["", f"LLM calls this run: {costs.get('calls', 0)}, cost ${costs.get('cost_usd', 0.0):.6f}"]
    if summary.get("message"):
        lines += ["", f"> {summary['message']}"]
    return "\n".join(lines) + "\n"
