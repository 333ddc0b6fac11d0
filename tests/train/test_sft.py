"""SFT on a factory dataset version: the loss falls and the final artifact is complete."""

from __future__ import annotations

import json

import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer

from magnet_core.dataset.parquet_io import read_manifest
from magnet_core.train.sft import run_sft


def test_sft_lowers_loss_and_saves_model_tokenizer_config_and_version(make_config, smoke_dataset):
    config = make_config(stage="sft", max_steps=6)
    result = run_sft(config)
    records = [json.loads(line) for line in (config.output_dir / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if "loss" in r]
    assert len(losses) == 6 and losses[-1] < losses[0] - 0.2
    assert result.steps == 6 and result.final_loss == losses[-1] and result.tokens_per_second > 0

    final = result.final_dir
    assert AutoModelForCausalLM.from_pretrained(final).config.model_type == "qwen2"
    assert "generation" in AutoTokenizer.from_pretrained(final).chat_template
    saved = yaml.safe_load((final / "train_config.yaml").read_text())
    assert saved["stage"] == "sft" and saved["max_steps"] == 6
    version = json.loads((final / "dataset_version.json").read_text())["dataset_version"]
    assert version == read_manifest(smoke_dataset)["version_id"] == result.dataset_version
    summary = json.loads(result.metrics_path.read_text())
    assert summary["steps"] == 6 and summary["tokens_per_second"] > 0 and summary["deepspeed_zero_stage"] is None


def test_cli_sft_refuses_a_max_length_that_leaves_no_assistant_token(make_config, tmp_path):
    from typer.testing import CliRunner

    from magnet_core.cli.main import app

    config = make_config(stage="sft", max_length=64)
    path = config.to_yaml(tmp_path / "short.yaml")
    result = CliRunner().invoke(app, ["train", "sft", "--config", str(path)])
    assert result.exit_code != 0
    assert "no training example keeps an assistant token within max_length=64" in str(result.exception)
    assert not (config.output_dir / "final").exists()
