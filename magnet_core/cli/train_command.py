"""`magnet train ...`: SFT, mDPO, multi-process launch, and a tiny local model for CPU smoke runs.

`sft`/`mdpo` run in this process (one device); `launch` builds the `accelerate`/`deepspeed`/`torchrun`
command from the config's `launch` block, prints and logs it, and runs it. Torch and TRL are imported
inside the commands so `magnet --help` stays fast.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

train_app = typer.Typer(help="Train on a factory dataset version: SFT, then mDPO (TRL/PEFT/DeepSpeed).")


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")


def _run_stage(config_path: Path, stage: str, max_steps: int | None) -> None:
    from magnet_core.train.config import load_train_config
    from magnet_core.train.worker import run_config

    overrides = {"max_steps": max_steps} if max_steps is not None else {}
    config = load_train_config(config_path, **overrides)
    if config.stage != stage:
        raise typer.BadParameter(f"{config_path} is a {config.stage!r} config, not {stage!r}", param_hint="--config")
    result = run_config(config)
    typer.echo(json.dumps(asdict(result), default=str, indent=2))


@train_app.command("sft")
def sft(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="training YAML"),
    max_steps: int | None = typer.Option(None, help="cap the number of optimizer steps"),
) -> None:
    """Supervised fine-tuning on the dataset's sft/ split (assistant tokens only)."""
    _run_stage(config, "sft", max_steps)


@train_app.command("mdpo")
def mdpo(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="training YAML"),
    max_steps: int | None = typer.Option(None, help="cap the number of optimizer steps"),
) -> None:
    """Multi-turn DPO on the dataset's preference/ split, from the SFT model."""
    _run_stage(config, "mdpo", max_steps)


@train_app.command("launch")
def launch(
    config: Path = typer.Option(..., "--config", exists=True, dir_okay=False, help="training YAML"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print and log the command without running it"),
) -> None:
    """Launch the config's stage on N processes / nodes (accelerate, deepspeed or torchrun)."""
    from magnet_core.train.launcher import launch as run_launch

    code = run_launch(config, dry_run=dry_run)
    raise typer.Exit(code)


@train_app.command("tiny-model")
def tiny_model(
    output_dir: Path = typer.Argument(..., help="where to write the model and tokenizer"),
    seed: int = typer.Option(0),
) -> None:
    """Write a tiny random Qwen2-style model + local tokenizer (CPU tests and smoke runs; no hub access)."""
    from magnet_core.train.tiny_model import create_tiny_model

    typer.echo(str(create_tiny_model(output_dir, seed=seed)))
