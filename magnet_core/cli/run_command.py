"""`magnet run`: the whole pipeline as a Prefect flow, on embedded Prefect unless PREFECT_API_URL is set.

With no config it runs the offline default (offline roles, BFCL pool, a small dataset, a tiny-model
SFT and mDPO on CPU) and says so. It prints where the outputs are, and this run's time next to the
previous run's (kept in `<workdir>/last_run.json`), so a warm re-run shows what the cache saved.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import typer
import yaml

OFFLINE_BANNER = "[offline default] no teacher model configured: offline roles, {pool}, no API key needed"


def banner(config: Any) -> str:
    """The run's first line: offline or not, and the pool it really uses (an MCP run is not a BFCL run)."""
    if not config.offline:
        return "teacher models configured: roles call the LLM client"
    pool = config.pool
    named = "BFCL pool" if pool.kind == "bfcl" and not pool.source else f"{pool.kind} pool" + (f" {pool.source}" if pool.source else "")
    return OFFLINE_BANNER.format(pool=named)


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def load_config(path: Path | None, workdir: str | None, runner: str | None, dask_address: str | None,
                no_train: bool, teacher: str | None = None, api_base: str | None = None,
                api_key_env: str | None = None, leak_judge: bool = False):
    from flows.configs import PipelineConfig
    from magnet_core.llm.registry import DEFAULT_ALIAS, single_model

    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path else {}
    if not isinstance(raw, dict):
        raise typer.BadParameter(f"{path}: the pipeline config is a YAML/JSON mapping")
    if workdir:
        raw["workdir"] = workdir
    if runner or dask_address:
        raw["runner"] = {**raw.get("runner", {}), "kind": "dask" if dask_address else runner}
        if dask_address:
            raw["runner"]["dask_address"] = dask_address
    if no_train:
        raw["training"] = None
    if teacher:  # the common case: one `teacher` alias, every model-backed role on it
        raw["models"] = {**raw.get("models", {}), **single_model(teacher, api_base, api_key_env)}
    elif api_base or api_key_env:
        raise typer.BadParameter("--api-base and --api-key-env go with --teacher MODEL")
    if leak_judge:  # opt-in: the lone teacher alias never turns an extra-cost judge on by itself
        raw["roles"] = {**raw.get("roles", {}), "leak_judge": raw.get("roles", {}).get("leak_judge", DEFAULT_ALIAS)}
    return PipelineConfig.model_validate(raw)


def run(
    config_path: Path = typer.Option(None, "--config", help="YAML/JSON file with a PipelineConfig (default: offline)."),
    workdir: str = typer.Option(None, "--workdir", help="Artifacts, cache, ledgers, checkpoints (default .magnet)."),
    runner: str = typer.Option(None, "--runner", help="Shard task runner: thread (default) or dask."),
    dask_address: str = typer.Option(None, "--dask-address", help="tcp://host:port of a Dask scheduler."),
    no_train: bool = typer.Option(False, "--no-train", help="Stop after the dataset."),
    teacher: str = typer.Option(None, "--teacher", help="litellm model string for every model-backed role "
                                "(the `teacher` alias), e.g. openai/gpt-4o-mini or hosted_vllm/Qwen2.5-7B-Instruct."),
    api_base: str = typer.Option(None, "--api-base", help="Base URL of the teacher's OpenAI-compatible server."),
    api_key_env: str = typer.Option(None, "--api-key-env", help="Environment variable holding the teacher's API key."),
    leak_judge: bool = typer.Option(False, "--leak-judge", help="Also let the teacher judge every stored sample "
                                    "for references to its private guidance (opt-in: one more call per sample)."),
    debug: bool = typer.Option(False, "--debug", help="Keep Prefect's tracebacks for setup failures (bad key, "
                               "unknown model, unreachable server), which otherwise end the run in one line."),
) -> None:
    """Run the whole pipeline flow (synthesis -> dataset -> SFT -> mDPO) and print where the outputs are."""
    if debug:
        os.environ["MAGNET_DEBUG"] = "1"  # read by flows/setup_failures.py (magnet_core never imports flows)
    from flows.local_api import describe, start_early, wait_or_explain

    where = os.environ.get("PREFECT_API_URL")
    api = start_early()  # reused, or booting while the pipeline imports (a cached re-run was mostly these waits)
    where = where or describe(api) or "embedded Prefect (temporary local server, no server to start)"
    from pydantic import ValidationError

    try:
        config = load_config(config_path, workdir, runner, dask_address, no_train, teacher, api_base, api_key_env,
                             leak_judge)
    except ValidationError as error:
        typer.echo(f"invalid pipeline config:\n{error}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(banner(config))
    typer.echo(f"orchestration: {where}")

    from flows.pipeline import pipeline_flow

    wait_or_explain(api, float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")))
    started = time.perf_counter()
    state = pipeline_flow(config=config, return_state=True)
    elapsed = time.perf_counter() - started
    summary = state.result(raise_on_failure=False)
    if not state.is_completed() or not isinstance(summary, dict):
        typer.echo(f"pipeline {state.name}: {state.message}", err=True)
        raise typer.Exit(code=1)
    _print_summary(summary, config.offline)
    _print_timing(Path(config.workdir), elapsed, summary)


def _print_summary(summary: dict, offline: bool) -> None:
    label = " [offline default]" if offline else ""
    typer.echo(f"run {summary['run_id']}: {summary['status']}{label}")
    for stage in summary["stages"]:
        typer.echo(f"  {stage['stage']:<11} shards {stage['shards']:>3} (cached {stage['cached']:>3})  "
                   f"in {stage['items_in']:>5}  out {stage['items_out']:>5}  rejects {stage['rejects']:>4}")
    for name in summary.get("skipped", []):
        typer.echo(f"  {name:<11} not wired into the pipeline yet (skipped)")
    for label_text, key in (("dataset", "dataset_path"), ("dataset card", "card_path"), ("ledger", "ledger_dir"),
                            ("SFT checkpoint", "sft_checkpoint"), ("mDPO checkpoint", "mdpo_checkpoint"),
                            ("evaluation", "evaluation_report"), ("run summary", "summary_path")):
        if summary.get(key):
            typer.echo(f"{label_text + ':':<17}{summary[key]}")
    if summary.get("dataset_counts"):
        typer.echo("dataset rows:    " + ", ".join(f"{k} {v}" for k, v in sorted(summary["dataset_counts"].items())))
    if summary.get("multi_turn_shape"):
        shape = summary["multi_turn_shape"]
        typer.echo(f"multi-turn shape: {shape['turns']:.2f} turns, {shape['calls']:.2f} calls per sample "
                   f"(paper {shape['paper_turns']} / {shape['paper_calls']})")
    _print_mixture(summary)
    costs = summary.get("costs", {})
    typer.echo(f"teacher calls this run: {costs.get('calls', 0)} (cost ${costs.get('cost_usd', 0.0):.6f})"
               + (" - offline roles make none" if offline else ""))


def _print_mixture(summary: dict) -> None:
    """Achieved against target per category, with every surplus and shortfall (issue 12)."""
    sizing = summary.get("sizing") or {}
    if sizing:
        typer.echo(f"dataset size: {sizing['mode']}; rounds: " + "; ".join(
            f"{r['round']}: paths {r['paths']}, samples {sum(r['samples'].values())}, pairs {sum(r['pairs'].values())}"
            for r in sizing.get("rounds", [])))
        for name, why in sorted(sizing.get("notes", {}).items()):
            typer.echo(f"  {name}: {why}")
    for part, rows in (summary.get("dataset_mixture") or {}).items():
        if not rows:
            continue
        typer.echo(f"mixture ({part}): category      target  achieved  surplus  shortfall")
        for row in rows:
            note = f"  [{row['note']}]" if row.get("note") else ""
            typer.echo(f"  {row['category']:<25} {row['target_count']:>8.0f} {row['achieved']:>9} {row.get('surplus', 0):>8} "
                       f"{row.get('shortfall', 0):>10}{note}")


def _print_timing(workdir: Path, elapsed: float, summary: dict) -> None:
    record_path = workdir / "last_run.json"
    previous = json.loads(record_path.read_text()) if record_path.is_file() else None
    typer.echo(f"this run: {elapsed:.1f} s (flow body {summary.get('wall_s', 0.0):.1f} s)")
    if previous:
        ratio = previous["elapsed_s"] / elapsed if elapsed > 0 else float("inf")
        typer.echo(f"previous run: {previous['elapsed_s']:.1f} s -> this run took 1/{ratio:.1f} of it "
                   f"(ratio previous/this = {ratio:.1f}x)")
    workdir.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps({"elapsed_s": elapsed, "run_id": summary["run_id"], "finished_at": time.time()}))
