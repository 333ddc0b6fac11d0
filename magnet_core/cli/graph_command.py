"""`magnet graph`: build the dependency graph of a pool and write it, its statistics and its picture."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("graph")(graph)


def graph(
    pool_kind: str = typer.Option("bfcl", "--pool", help="Pool kind: bfcl, openai-json or python."),
    source: str = typer.Option(None, "--source", help="Pool source (see `magnet pool`)."),
    out: Path = typer.Option(..., "--out", help="Directory for graph.json, graph_stats.json and the pictures."),
    k: int = typer.Option(30, "--k", help="Candidate neighbours judged per function."),
    tool_class: list[str] = typer.Option([], "--class", help="Also draw this tool class alone (repeatable)."),
    plans: bool = typer.Option(True, "--plans/--no-plans", help="Also sample plans P/P' and write plans.jsonl."),
    seed: int = typer.Option(0, "--seed"),
    judge_kind: str = typer.Option("auto", "--judge", help="auto (llm with --teacher, else heuristic), heuristic "
                                   "(offline) or llm (needs --teacher)."),
    teacher: str = typer.Option(None, "--teacher", help="litellm model string of the dependency judge."),
    api_base: str = typer.Option(None, "--api-base", help="Base URL of the judge's OpenAI-compatible server."),
    api_key_env: str = typer.Option(None, "--api-key-env", help="Environment variable holding the judge's API key."),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="LLM response cache (default: OUT/llm-cache)."),
) -> None:
    """Build the dependency graph (offline heuristic judge, or the model judge with --teacher) and write
    it with stats and a PNG."""
    from magnet_core.graph.draw import MAX_DRAWN_NODES, draw_graph
    from magnet_core.graph.html_view import write_html
    from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig, build_graph, sample_plans_with_report
    from magnet_core.pools import load_pool

    if judge_kind not in ("auto", "heuristic", "llm"):
        raise typer.BadParameter("--judge is auto, heuristic or llm")
    if judge_kind == "llm" and not teacher:
        raise typer.BadParameter("--judge llm needs --teacher MODEL (the dependency judge's model)")
    if judge_kind == "heuristic" and teacher:
        raise typer.BadParameter("--judge heuristic calls no model: drop --teacher, or use --judge auto/llm")
    if (api_base or api_key_env) and not teacher:
        raise typer.BadParameter("--api-base and --api-key-env go with --teacher MODEL")
    loaded = load_pool(pool_kind, source)
    judge = _model_judge(teacher, api_base, api_key_env, cache_dir or out / "llm-cache") if teacher else None
    built = build_graph(loaded, GraphStageConfig(k_candidates=k, seed=seed, judge=judge_kind), judge=judge)
    out.mkdir(parents=True, exist_ok=True)
    graph_path = built.save(out / "graph.json")
    stats = built.stats()
    written = {"graph (node-link JSON)": graph_path}
    pictures = []
    if stats["nodes"] <= MAX_DRAWN_NODES:
        pictures.append(draw_graph(built, out / "graph.png"))
        pictures.append(write_html(built, out / "graph.html"))
    for name in tool_class:
        pictures.append(draw_graph(built, out / f"graph_{name}.png", tool_class=name))
    if plans:
        sampled, counts = sample_plans_with_report(built, loaded, PlanStageConfig(seed=seed))
        plans_path = out / "plans.jsonl"
        plans_path.write_text("".join(plan.model_dump_json() + "\n" for plan in sampled), encoding="utf-8")
        stats["plans"] = counts
        written["plans (JSON lines)"] = plans_path
    stats_path = out / "graph_stats.json"
    stats_path.write_text(json.dumps(stats, indent=2), encoding="utf-8")
    written["statistics"] = stats_path
    typer.echo(f"judge: {built.metadata['judge']}" + (" [offline: heuristic judge, no model configured]" if built.metadata["offline"] else ""))
    typer.echo(f"{stats['nodes']} functions, {stats['edges']} edges {stats['edges_per_kind']}, {stats['isolated_count']} isolated")
    for label, path in written.items():
        typer.echo(f"{label}: {path}")
    for path in pictures:
        typer.echo(f"picture: {path}")
    if not pictures:
        typer.echo(f"picture: skipped ({stats['nodes']} nodes > {MAX_DRAWN_NODES}); pass --class NAME to draw one class")


def _model_judge(model: str, api_base: str | None, api_key_env: str | None, cache_dir: Path):
    """The LLM dependency judge on a cached client, after the model passed its preflight probe."""
    import asyncio

    from magnet_core.graph.llm_judge import LLMDependencyJudge
    from magnet_core.llm.client import LLMClient
    from magnet_core.llm.preflight import PreflightError, preflight
    from magnet_core.llm.types import ModelConfig

    config = ModelConfig(model=model, api_base=api_base, api_key_env=api_key_env)
    try:
        asyncio.run(preflight(LLMClient(), [(("dependency_judge",), config)]))
    except PreflightError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from None
    return LLMDependencyJudge(LLMClient(cache_dir=cache_dir), config)
