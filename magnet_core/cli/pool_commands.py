"""`magnet pool`: load a function pool and report what loaded and what was refused."""

from __future__ import annotations

import json

import typer

from magnet_core.pools import PoolLoadError, load_pool


def register(app: typer.Typer) -> None:
    app.command("pool")(pool)


def pool(
    kind: str = typer.Option("bfcl", "--pool", help="Pool kind: bfcl, openai-json, python, mcp or mixed."),
    source: str = typer.Option(None, "--source", help="JSON/JSONL path, module[:Class], BFCL class list, MCP servers "
                                                     "('cmd args; http://host/mcp'), or 'kind=source | kind=source'."),
    strict: bool = typer.Option(False, "--strict", help="Fail on any malformed entry instead of skipping it."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Load a function pool and print function counts per tool class."""
    try:
        loaded = load_pool(kind, source, strict=strict)
    except PoolLoadError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=2) from None
    summary = pool_summary(loaded)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(format_pool_summary(summary))


def pool_summary(loaded) -> dict:
    return {
        "pool": loaded.name,
        "kind": loaded.kind,
        "functions": len(loaded.specs),
        "simulated_execution": loaded.simulated,
        "classes": {name: len(specs) for name, specs in sorted(loaded.classes().items())},
        "issues": [str(issue) for issue in loaded.issues],
        "fingerprint": loaded.fingerprint(),
        **({"tools": {name: [s.name for s in specs] for name, specs in sorted(loaded.classes().items())}}
           if loaded.kind in ("mcp", "mixed") else {}),
    }


def format_pool_summary(summary: dict) -> str:
    lines = [
        f"pool {summary['pool']} ({summary['kind']}): {summary['functions']} functions"
        + (" [simulated execution: no implementations]" if summary["simulated_execution"] else " [executable backends]"),
    ]
    for name, count in summary["classes"].items():
        lines.append(f"  {name:<22} {count:>4}")
        if name in summary.get("tools", {}):  # MCP: the tools of each server
            lines.append(f"      {', '.join(summary['tools'][name])}")
    if summary["issues"]:
        lines.append(f"  {len(summary['issues'])} entries refused:")
        lines += [f"    - {issue}" for issue in summary["issues"]]
    return "\n".join(lines)
