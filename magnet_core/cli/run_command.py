"""`magnet run`: the main job on the embedded default (offline roles, BFCL pool, no API key)."""

from __future__ import annotations

import typer

from magnet_core.cli.pool_commands import format_pool_summary, pool_summary
from magnet_core.pools import load_pool

OFFLINE_BANNER = "[offline default] no teacher model configured: offline roles, BFCL pool, no API key needed"


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def run() -> None:
    """Run the factory's main job on the embedded default."""
    typer.echo(OFFLINE_BANNER)
    typer.echo(format_pool_summary(pool_summary(load_pool("bfcl"))))
