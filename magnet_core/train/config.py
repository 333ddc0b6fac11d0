"""The one validated config that drives a training run (SFT or mDPO, one GPU or many).

A run is described by a YAML file holding a `TrainConfig`; a recipe (`recipes/*.yaml`) is such a file
with the paper's hyper-parameters, and a run file can name a recipe and override any field. The same
file is read by the launcher (to build the `accelerate`/`deepspeed` command) and by every worker
process, so all ranks train with exactly the same settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

RECIPES_DIR = Path(__file__).parent / "recipes"
DEEPSPEED_DIR = Path(__file__).parent / "deepspeed"
DEEPSPEED_CONFIGS = ("zero2", "zero2_offload", "zero3", "zero3_offload")


class LoraOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    r: int = Field(32, gt=0)
    alpha: int = Field(64, gt=0)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LaunchOptions(BaseModel):
    """How many processes on how many nodes; a hostfile lists the nodes for multi-node runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    launcher: Literal["accelerate", "deepspeed", "torchrun"] = "accelerate"
    num_processes: int = Field(1, gt=0, description="processes (GPUs) per node")
    num_nodes: int = Field(1, gt=0)
    hostfile: Path | None = None
    machine_rank: int = Field(0, ge=0)
    main_process_ip: str = "127.0.0.1"
    main_process_port: int = Field(29500, gt=0, lt=65536)

    @model_validator(mode="after")
    def _check(self) -> "LaunchOptions":
        if self.num_nodes > 1 and self.launcher == "deepspeed" and self.hostfile is None:
            raise ValueError("a multi-node deepspeed launch needs a hostfile")
        if self.machine_rank >= self.num_nodes:
            raise ValueError("machine_rank must be below num_nodes")
        return self

    @property
    def world_size(self) -> int:
        return self.num_processes * self.num_nodes


class TrainConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Literal["sft", "mdpo"]
    model_path: Path = Field(description="base model (SFT) or the SFT model (mDPO reference and init)")
    dataset_dir: Path = Field(description="a dataset version dir `data/<version_id>/` (sft/ or preference/)")
    output_dir: Path
    # Optimisation (defaults: the paper's SFT recipe)
    learning_rate: float = Field(1e-5, gt=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    lr_scheduler_type: str = "linear"
    effective_batch_size: int = Field(64, gt=0)
    per_device_batch_size: int = Field(1, gt=0)
    num_train_epochs: float = Field(1.0, gt=0)
    max_length: int = Field(8192, gt=0)
    max_steps: int = Field(-1, description="> 0 caps the run (tests, smoke runs)")
    weight_decay: float = Field(0.0, ge=0)
    gradient_checkpointing: bool = False
    packing: bool = Field(False, description="pack rows (bfd); on GPU pair with attn_implementation flash_attention_2")
    attn_implementation: str | None = Field(None, description="e.g. sdpa, flash_attention_2; None: transformers' default")
    # mDPO
    beta: float = Field(0.1, gt=0)
    mdpo_lambda: float = Field(1.0, ge=0, description="weight of the M-DPO term next to the chosen SFT loss")
    # Parameter-efficient tuning
    lora: LoraOptions | None = None
    # Scale-out
    deepspeed: str | None = Field(None, description=f"one of {DEEPSPEED_CONFIGS} or a path to a JSON config")
    launch: LaunchOptions = LaunchOptions()
    bf16: bool = False
    use_cpu: bool = False
    # Checkpoints, logging, determinism
    save_steps: int = Field(500, gt=0)
    save_total_limit: int | None = Field(3, gt=0)
    logging_steps: int = Field(1, gt=0)
    resume: bool = Field(True, description="continue from the latest complete checkpoint in output_dir")
    seed: int = 0

    @model_validator(mode="after")
    def _check(self) -> "TrainConfig":
        if self.bf16 and self.use_cpu:
            raise ValueError("bf16 is for GPU runs; set bf16: false with use_cpu: true")
        if self.effective_batch_size % (self.per_device_batch_size * self.launch.world_size):
            raise ValueError(
                "effective_batch_size must be a multiple of per_device_batch_size x world size "
                f"({self.per_device_batch_size} x {self.launch.world_size})"
            )
        if self.deepspeed is not None and self.deepspeed not in DEEPSPEED_CONFIGS:
            if not Path(self.deepspeed).is_file():
                raise ValueError(f"deepspeed must be one of {DEEPSPEED_CONFIGS} or an existing JSON file")
        return self

    @property
    def gradient_accumulation_steps(self) -> int:
        return self.effective_batch_size // (self.per_device_batch_size * self.launch.world_size)

    def deepspeed_config_path(self) -> Path | None:
        if self.deepspeed is None:
            return None
        if self.deepspeed in DEEPSPEED_CONFIGS:
            return DEEPSPEED_DIR / f"{self.deepspeed}.json"
        return Path(self.deepspeed)

    def to_yaml(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
        return path


def load_recipe(name: str) -> dict[str, Any]:
    path = RECIPES_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))
        raise ValueError(f"unknown recipe {name!r}; known: {known}")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_train_config(path: Path, **overrides: Any) -> TrainConfig:
    """Read a run YAML; a `recipe:` key pulls in a recipe whose fields the file (then `overrides`) replace."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a training config is a YAML mapping")
    recipe = raw.pop("recipe", None)
    merged = {**(load_recipe(recipe) if recipe else {}), **raw, **overrides}
    return TrainConfig.model_validate(merged)
