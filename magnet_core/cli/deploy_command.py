"""`magnet deploy`: create the work pools and register the deployments of deployments/prefect.yaml."""

from __future__ import annotations

import os
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)


def deploy(
    project_dir: Path = typer.Option(Path("."), "--project-dir", help="Project root as the workers see it."),
    name: list[str] = typer.Option(None, "--name", help="Register only these deployments (repeatable)."),
    prefect_file: Path = typer.Option(None, "--prefect-file", help="Deployment file (default: deployments/prefect.yaml)."),
) -> None:
    """Register the pipeline and stage deployments (nightly cron + on-demand) on a Prefect server."""
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("PREFECT_API_URL is not set: point it at your Prefect server (docker compose up, or "
                   "`prefect server start`), e.g. export PREFECT_API_URL=http://127.0.0.1:4200/api", err=True)
        raise typer.Exit(code=2)
    from deployments.register import PREFECT_FILE, register as register_deployments

    registered = register_deployments(project_dir, names=name or None, path=prefect_file or PREFECT_FILE)
    for full_name, deployment_id in registered.items():
        typer.echo(f"registered {full_name} ({deployment_id})")
