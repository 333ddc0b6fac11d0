"""The pipeline's training settings can name the paper's recipes instead of the reduced smoke-run settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tasks.training_tasks import TrainingSettings, _training_config


def config(stage: str, tmp_path: Path, **settings):
    return _training_config(stage, TrainingSettings(**settings), str(tmp_path / "data"), str(tmp_path / "model"),
                            tmp_path / "out")


def test_recipes_replace_the_reduced_settings(tmp_path):
    reduced = config("mdpo", tmp_path)
    assert reduced.use_cpu and reduced.max_steps == 2 and reduced.deepspeed is None

    lora = config("mdpo", tmp_path, use_cpu=False, mdpo_recipe="mdpo_14b_lora")
    assert (lora.lora.r, lora.lora.alpha, lora.learning_rate, lora.deepspeed) == (32, 64, 1e-6, "zero2")
    assert lora.effective_batch_size == 32 and lora.bf16 and lora.max_steps == -1, "a full epoch, not the smoke cap"
    full = config("mdpo", tmp_path, use_cpu=False, mdpo_recipe="mdpo_7b_full")
    assert (full.lora, full.learning_rate, full.deepspeed) == (None, 5e-7, "zero3")
    sft = config("sft", tmp_path, use_cpu=False, sft_recipe="sft", mdpo_recipe="mdpo_7b_full")
    assert (sft.stage, sft.learning_rate, sft.effective_batch_size, sft.deepspeed) == ("sft", 1e-5, 64, "zero3")
    assert sft.model_path == tmp_path / "model" and sft.output_dir == tmp_path / "out"


def test_a_recipe_file_and_the_errors_a_user_can_make(tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text("stage: sft\nlearning_rate: 2.0e-5\neffective_batch_size: 4\ndeepspeed: zero2\n")
    assert config("sft", tmp_path, use_cpu=False, sft_recipe=str(own)).learning_rate == 2e-5
    with pytest.raises(ValueError, match="is for stage sft, not mdpo"):
        config("mdpo", tmp_path, use_cpu=False, mdpo_recipe=str(own))
    with pytest.raises(ValueError, match="unknown recipe"):
        config("sft", tmp_path, sft_recipe="sft_70b")
    with pytest.raises(ValidationError, match="bf16 is for GPU runs"):
        config("sft", tmp_path, sft_recipe="sft")  # use_cpu stays True: the recipe's bf16 is refused clearly
