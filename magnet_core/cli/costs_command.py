"""`magnet costs`: LLM spend per run and cumulative, read from the run ledgers under a workdir."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("costs")(costs)


def costs(
    workdir: Path = typer.Option(Path(".magnet"), "--workdir", help="The pipeline's workdir (holds runs/<id>/ledger)."),
) -> None:
    """Spend across runs: calls, tokens and cost per run, oldest first, with the running total."""
    from magnet_core.llm.spend import spend_by_run

    rows = spend_by_run(workdir)
    if not rows:
        typer.echo(f"no LLM calls recorded under {workdir}/runs (offline runs make none)")
        return
    typer.echo(f"{'run':<32} {'last call (UTC)':<20} {'calls':>6} {'failed':>6} {'cached':>6} {'tokens':>9} "
               f"{'cost USD':>11} {'cumulative':>11}")
    for row in rows:
        typer.echo(f"{row['run'][:32]:<32} {row['last_call_utc']:<20} {row['calls']:>6} {row['failed_calls']:>6} "
                   f"{row['cached_calls']:>6} {row['tokens']:>9} {row['cost_usd']:>11.6f} {row['cumulative_usd']:>11.6f}")
    typer.echo(f"total: {len(rows)} run(s), ${rows[-1]['cumulative_usd']:.6f}")
