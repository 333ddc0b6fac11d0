"""Entry point of the `magnet` console script.

Each area owns one module under `magnet_core/cli/` with a `register(app)` function; adding an area is
adding one line to COMMAND_MODULES. Modules import their heavy dependencies (torch, prefect) inside
the command bodies so that `magnet --help` stays fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="magnet",
    help="Magnet Factory: multi-turn function-calling data synthesis (Magnet method) and training.",
    no_args_is_help=True,
    add_completion=False,
)



@app.callback()
def _root() -> None:
    """Magnet Factory command line."""


COMMAND_MODULES = [
    "magnet_core.cli.pool_commands",
    "magnet_core.cli.run_command",
    "magnet_core.cli.deploy_command",
    "magnet_core.cli.graph_command",
    "magnet_core.cli.dataset_command",
    "magnet_core.cli.llm_command",
    "magnet_core.cli.train_command",
    "magnet_core.cli.eval_command",
    "magnet_core.cli.costs_command",
]

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


if __name__ == "__main__":
    app()
