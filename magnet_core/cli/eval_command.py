"""`magnet eval`: BFCL evaluation (multi-turn, or the BFCL-v3 suite) of a model behind litellm or a local checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)


def eval_command(
    output_dir: Path = typer.Option(..., "--output-dir", "-o", help="Where case records, cases.parquet, report.md and accuracy.png go"),
    model: Optional[str] = typer.Option(None, help="litellm model string, e.g. openai/gpt-4o-mini or hosted_vllm/my-checkpoint"),
    api_base: Optional[str] = typer.Option(None, help="OpenAI-compatible endpoint (vLLM server, local test server)"),
    api_key_env: Optional[str] = typer.Option(None, help="Name of the environment variable holding the API key"),
    local_model: Optional[Path] = typer.Option(None, help="A transformers checkpoint directory, run in-process instead"),
    categories: str = typer.Option("base,miss_func,miss_param,long_context", help="Comma-separated BFCL categories (multi-turn or single-turn)"),
    suite: Optional[str] = typer.Option(None, help="bfcl-v3: every single-turn, relevance/irrelevance and multi-turn category (overrides --categories)"),
    text_calls: str = typer.Option("qwen", help="How calls written as text are read: qwen (BFCL's Qwen FC handler) or lenient"),
    sample: Optional[int] = typer.Option(None, help="Cases per category (default: all 200)"),
    seed: int = typer.Option(0, help="Seed of the per-category sample"),
    label: Optional[str] = typer.Option(None, help="Model name in the report"),
    max_steps: int = typer.Option(20, help="Calling steps allowed per turn (BFCL: 20)"),
    concurrency: int = typer.Option(8, help="Cases in flight at once"),
    max_cost_usd: Optional[float] = typer.Option(None, help="Stop starting new requests past this spend; rerun to resume"),
    cache_dir: Optional[Path] = typer.Option(None, help="LLM response cache (default: <output-dir>/llm_cache)"),
    no_ask_check: bool = typer.Option(False, "--no-ask-check", help="Skip BFCL-v3's check that ask-turns make no call"),
) -> None:
    """Run BFCL categories against one model and report beside the paper's rows."""
    from magnet_core.evaluate.config import SUITES, EvalConfig
    from magnet_core.evaluate.runner import run_evaluation
    from magnet_core.llm.types import ModelConfig

    if (model is None) == (local_model is None):
        raise typer.BadParameter("give exactly one of --model (via litellm) or --local-model (transformers checkpoint)")
    if suite is not None and suite not in SUITES:
        raise typer.BadParameter(f"unknown suite {suite!r}; choose from {sorted(SUITES)}")
    chosen = SUITES[suite] if suite else tuple(name.strip() for name in categories.split(",") if name.strip())
    model_config = None
    if model is not None:
        model_config = ModelConfig(model=model, api_base=api_base, api_key_env=api_key_env, max_concurrency=max(concurrency, 1))
    config = EvalConfig(
        output_dir=output_dir,
        categories=chosen,
        sample_size=sample,
        seed=seed,
        model=model_config,
        local_model_path=local_model,
        label=label,
        cache_dir=cache_dir,
        max_steps_per_turn=max_steps,
        concurrency=concurrency,
        max_cost_usd=max_cost_usd,
        check_ask_turns=not no_ask_check,
        text_call_format=text_calls,
    )
    result = run_evaluation(config)
    for score in result.scores:
        typer.echo(f"{score.category:<23} {score.accuracy:6.2f}%  ({score.correct}/{score.cases})  strict-schema {score.strict_accuracy:6.2f}%")
    if config.single_turn_categories:
        for name, value in result.summary.items():
            if name != "overall":
                typer.echo(f"{name:<23} {value:6.2f}%")
        typer.echo(f"{'overall (BFCL-v3)':<23} {result.overall:6.2f}%")
    else:
        typer.echo(f"{'overall':<23} {result.overall:6.2f}%")
    typer.echo(f"cost ${result.cost_usd:.4f}  wall {result.wall_time_s:.1f}s  requests {result.requests} ({result.cached_requests} cached)")
    if not result.complete:
        typer.echo(f"incomplete: {result.unfinished} case(s) unfinished or failed to run; rerun the same command to resume")
    typer.echo(f"report: {result.report_md}\ntable: {result.cases_parquet}\nchart: {result.chart_png}")
