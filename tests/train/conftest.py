"""Training-area fixtures: a tiny local Qwen2-style model, a minuscule one for multi-process runs, and a
small factory dataset version (multi-turn, tool calls, tool outputs) assembled through the dataset stage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

MINI_SIZE = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
             "num_key_value_heads": 1}


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from magnet_core.train.tiny_model import create_tiny_model

    return create_tiny_model(tmp_path_factory.mktemp("tiny_model"), seed=0)


@pytest.fixture(scope="session")
def mini_model_dir(tmp_path_factory) -> Path:
    from magnet_core.train.tiny_model import create_tiny_model

    return create_tiny_model(tmp_path_factory.mktemp("mini_model"), seed=0, **MINI_SIZE)


@pytest.fixture(scope="session")
def smoke_dataset(tmp_path_factory) -> Path:
    from magnet_core.train.smoke_data import write_smoke_dataset

    return write_smoke_dataset(tmp_path_factory.mktemp("data"), n_sft=8, n_pairs=8, seed=0)


@pytest.fixture()
def make_config(tiny_model_dir, smoke_dataset, tmp_path):
    """A CPU TrainConfig on the tiny model and smoke dataset; keyword arguments override fields."""
    from magnet_core.train.config import TrainConfig

    def build(**overrides: Any) -> TrainConfig:
        fields: dict[str, Any] = {
            "stage": "sft",
            "model_path": tiny_model_dir,
            "dataset_dir": smoke_dataset,
            "output_dir": tmp_path / "out",
            "learning_rate": 3e-3,
            "effective_batch_size": 4,
            "per_device_batch_size": 2,
            "num_train_epochs": 20,
            "max_steps": 6,
            "max_length": 1024,
            "use_cpu": True,
            "save_steps": 100,
        }
        fields.update(overrides)
        return TrainConfig.model_validate(fields)

    return build
