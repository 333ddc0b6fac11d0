"""`magnet inspect DIR`: the dataset card's summary for a version, or for the newest version under a root."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)


def inspect(directory: Path = typer.Argument(Path("data"), help="A dataset version directory, or a root holding versions (default root: data/).")) -> None:
    """Print the summary of a dataset version (the newest one when DIR is a root of versions)."""
    from magnet_core.dataset.card import summary_lines
    from magnet_core.dataset.parquet_io import TMP_PREFIX, is_version_dir, list_versions, read_manifest

    if is_version_dir(directory):
        target = directory
    else:
        versions = list_versions(directory)
        leftovers = sorted(p.name for p in directory.glob(f"{TMP_PREFIX}*")) if directory.is_dir() else []
        if not versions:
            typer.echo(f"no complete dataset version under {directory}", err=True)
            if leftovers:
                typer.echo(f"ignored {len(leftovers)} incomplete write(s): {', '.join(leftovers)}", err=True)
            raise typer.Exit(code=2)
        typer.echo(f"{len(versions)} version(s) under {directory} (oldest first):")
        for version in versions:
            manifest = read_manifest(version)
            flag = " [offline]" if manifest["offline"] else ""
            counts = manifest["counts"]
            typer.echo(f"  {version.name}  sft {counts['sft']}  preference {counts['preference']}  rejects {counts['rejects']}{flag}")
        if leftovers:
            typer.echo(f"  (ignored {len(leftovers)} incomplete write(s))")
        target = versions[-1]
        typer.echo(f"newest: {target.name}\n")
    typer.echo("\n".join(summary_lines(read_manifest(target))))
