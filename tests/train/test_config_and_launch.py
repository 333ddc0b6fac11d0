"""The training YAML: validation, recipes, and the launch command built from it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.train.config import DEEPSPEED_CONFIGS, load_train_config
from magnet_core.train.launcher import build_launch_command


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


BASE = {"model_path": "m", "dataset_dir": "d", "output_dir": "o"}


def test_recipes_carry_the_paper_hyper_parameters(tmp_path):
    sft = load_train_config(_write(tmp_path / "a.yaml", {"recipe": "sft", **BASE}))
    assert (sft.learning_rate, sft.warmup_ratio, sft.lr_scheduler_type) == (1e-5, 0.1, "linear")
    assert (sft.effective_batch_size, sft.num_train_epochs, sft.max_length) == (64, 1, 8192)
    full = load_train_config(_write(tmp_path / "b.yaml", {"recipe": "mdpo_7b_full", **BASE, "beta": 0.3}))
    assert (full.stage, full.learning_rate, full.effective_batch_size, full.lora, full.beta) == (
        "mdpo", 5e-7, 32, None, 0.3)
    lora = load_train_config(_write(tmp_path / "c.yaml", {"recipe": "mdpo_14b_lora", **BASE}))
    assert (lora.lora.r, lora.lora.alpha, lora.learning_rate) == (32, 64, 1e-6)
    assert lora.gradient_accumulation_steps == 32


@pytest.mark.parametrize(
    "bad",
    [
        {"bf16": True, "use_cpu": True},
        {"effective_batch_size": 6, "per_device_batch_size": 4},
        {"deepspeed": "zero9"},
        {"launch": {"launcher": "deepspeed", "num_nodes": 2}},
        {"unknown_field": 1},
        {"stage": "ppo"},
    ],
)
def test_invalid_configs_are_refused(tmp_path, bad):
    with pytest.raises(ValidationError):
        load_train_config(_write(tmp_path / "x.yaml", {"stage": "sft", **BASE, **bad}))


def test_deepspeed_configs_ship_for_every_name():
    import json

    from magnet_core.train.config import DEEPSPEED_DIR

    stages = {name: json.loads((DEEPSPEED_DIR / f"{name}.json").read_text())["zero_optimization"] for name in DEEPSPEED_CONFIGS}
    assert stages["zero2"]["stage"] == 2 and stages["zero3"]["stage"] == 3
    assert stages["zero3_offload"]["offload_param"]["device"] == "cpu"
    assert stages["zero2_offload"]["offload_optimizer"]["device"] == "cpu"


def test_multi_node_deepspeed_command_uses_the_hostfile(tmp_path):
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("node1 slots=8\nnode2 slots=8\n")
    path = _write(tmp_path / "run.yaml", {
        "recipe": "mdpo_7b_full", **BASE,
        "launch": {"launcher": "deepspeed", "num_processes": 8, "num_nodes": 2, "hostfile": str(hostfile),
                   "main_process_ip": "10.0.0.1"},
    })
    command = build_launch_command(path, load_train_config(path))
    text = shlex.join(command)
    assert command[0] == "deepspeed"
    assert f"--hostfile {hostfile}" in text and "--num_nodes 2" in text and "--num_gpus 8" in text
    assert "--master_addr 10.0.0.1" in text and text.endswith(f"--module magnet_core.train.worker --config {path}")


def test_accelerate_command_for_n_gpus_and_cli_dry_run_logs_it(tmp_path):
    out = tmp_path / "out"
    path = _write(tmp_path / "run.yaml", {
        "recipe": "sft", **{**BASE, "output_dir": str(out)}, "launch": {"num_processes": 4, "num_nodes": 2, "machine_rank": 1},
    })
    command = shlex.join(build_launch_command(path, load_train_config(path)))
    assert "accelerate.commands.launch --num_processes 8 --num_machines 2 --machine_rank 1" in command
    assert "--mixed_precision bf16" in command and "--deepspeed_config_file" in command and "zero3.json" in command
    result = CliRunner().invoke(app, ["train", "launch", "--config", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert command in result.output
    assert command in (out / "launch.log").read_text()


def test_cli_refuses_a_config_of_the_other_stage(tmp_path):
    path = _write(tmp_path / "run.yaml", {"stage": "mdpo", **BASE})
    result = CliRunner().invoke(app, ["train", "sft", "--config", str(path)])
    assert result.exit_code != 0 and "mdpo" in result.output
