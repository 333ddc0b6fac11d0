"""Costs and a run summary, from the factory's own ledger, as Prefect artifacts and as a JSON file.

Numbers come from this run's ledger parts (Parquet), not from Prefect's task history: a cached shard
made no call in this run and so costs nothing here, which is exactly what a re-run should show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.refs import atomic_write_bytes

LEDGER_COLUMNS = ("model", "role", "stage", "status", "cached", "prompt_tokens", "completion_tokens", "cost_usd",
                  "latency_s", "retries")


def read_ledger(ledger_dir: Path):
    import pandas as pd

    from magnet_core.llm.ledger import consolidate

    consolidate(ledger_dir)  # journals of killed shards become parts: their spending is reported too
    parts = sorted(Path(ledger_dir).glob("*.parquet"))
    if not parts:
        return pd.DataFrame({column: [] for column in LEDGER_COLUMNS})
    return pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)


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


def publish_task_costs(rows: list[dict[str, Any]]) -> None:
    if rows:
        create_table_artifact(table=rows, key="task-costs",
                              description="Per shard task: state, items, LLM calls, tokens and cost in this run")


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
    for label, key in (("dataset", "dataset_path"), ("dataset card", "card_path"), ("ledger", "ledger_dir"),
                       ("SFT checkpoint", "sft_checkpoint"), ("mDPO checkpoint", "mdpo_checkpoint"),
                       ("evaluation", "evaluation_dir")):
        if summary.get(key):
            lines.append(f"- {label}: `{summary[key]}`")
    lines += ["", "| stage | shards | cached | items in | items out | rejects |", "|---|---|---|---|---|---|"]
    for stage in summary.get("stages", []):
        lines.append(f"| {stage['stage']} | {stage['shards']} | {stage['cached']} | {stage['items_in']} | "
                     f"{stage['items_out']} | {stage['rejects']} |")
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
