"""Prefect tasks over training and evaluation: base model, SFT, mDPO, BFCL evaluation.

Checkpoints go to `<workdir>/checkpoints/<stage>-<cache key>`: the same inputs land in the same
directory, so a run killed mid-training resumes from the trainer's last complete checkpoint there, and
a finished one is served from the cache without loading torch.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tasks.cache_keys import stage_cache_key
from tasks.options import stage_task
from tasks.refs import ArtifactRef, ref_for_existing
from tasks.workspace import Workspace


class TrainingSettings(BaseModel):
    """SFT then mDPO on the assembled dataset. No base model = a tiny random model (a smoke run, CPU)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_model_path: str | None = Field(None, description="HF model dir; empty = tiny random model (offline smoke run)")
    tiny_model_seed: int = 0
    sft_max_steps: int = Field(4, description="> 0 caps SFT steps; -1 = full epoch")
    mdpo_max_steps: int = Field(2, description="> 0 caps mDPO steps; -1 = full epoch")
    sft_learning_rate: float = Field(1e-5, gt=0)
    mdpo_learning_rate: float = Field(5e-7, gt=0)
    beta: float = Field(0.1, gt=0)
    effective_batch_size: int = Field(2, gt=0)
    per_device_batch_size: int = Field(1, gt=0)
    max_length: int = Field(4096, gt=0, description="Tokens per example (the tiny model takes up to 8192)")
    use_cpu: bool = True
    seed: int = 0


class TrainOutput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    key: str
    checkpoint: ArtifactRef
    output_dir: str
    steps: int
    final_loss: float | None
    dataset_version: str

    def key_fields(self) -> dict:
        return {"stage": self.stage, "key": self.key}  # chained on inputs: weights may differ in the last bits


def _training_config(stage: str, settings: TrainingSettings, dataset_dir: str, model_path: str, output_dir: Path):
    from magnet_core.train.config import TrainConfig

    return TrainConfig(
        stage=stage,
        model_path=Path(model_path),
        dataset_dir=Path(dataset_dir),
        output_dir=output_dir,
        learning_rate=settings.sft_learning_rate if stage == "sft" else settings.mdpo_learning_rate,
        effective_batch_size=settings.effective_batch_size,
        per_device_batch_size=settings.per_device_batch_size,
        max_length=settings.max_length,
        max_steps=settings.sft_max_steps if stage == "sft" else settings.mdpo_max_steps,
        beta=settings.beta,
        use_cpu=settings.use_cpu,
        save_steps=max(1, (settings.sft_max_steps if stage == "sft" else settings.mdpo_max_steps)),
        seed=settings.seed,
    )


@stage_task("train_sft", name="base-model", retries=False)
def base_model_task(settings: TrainingSettings, workspace: Workspace) -> ArtifactRef:
    """The model SFT starts from: the configured one, or a tiny random Qwen2 for offline smoke runs."""
    if settings.base_model_path:
        return ref_for_existing(Path(settings.base_model_path), shallow=True)
    from magnet_core.train.tiny_model import create_tiny_model

    key = stage_cache_key("train_sft", {"tiny_model_seed": settings.tiny_model_seed})
    path = create_tiny_model(workspace.checkpoints / f"tiny-{key}", seed=settings.tiny_model_seed)
    return ref_for_existing(path)


def _train(stage: str, settings: TrainingSettings, dataset: ArtifactRef, model: ArtifactRef, workspace: Workspace, key: str) -> TrainOutput:
    from magnet_core.train.mdpo import run_mdpo
    from magnet_core.train.sft import run_sft

    output_dir = workspace.checkpoints / f"{stage}-{key}"
    config = _training_config(stage, settings, dataset.path, model.path, output_dir)
    result = (run_sft if stage == "sft" else run_mdpo)(config)
    return TrainOutput(stage=stage, key=key, checkpoint=ref_for_existing(Path(result.final_dir)), output_dir=str(output_dir),
                       steps=result.steps, final_loss=result.final_loss, dataset_version=result.dataset_version)


@stage_task("train_sft", name="train-sft")
def train_sft_task(settings: TrainingSettings, dataset: ArtifactRef, base_model: ArtifactRef, workspace: Workspace) -> TrainOutput:
    key = stage_cache_key("train_sft", {"settings": settings, "dataset": dataset, "base_model": base_model})
    return _train("sft", settings, dataset, base_model, workspace, key)


@stage_task("train_mdpo", name="train-mdpo")
def train_mdpo_task(settings: TrainingSettings, dataset: ArtifactRef, sft: TrainOutput, workspace: Workspace) -> TrainOutput:
    key = stage_cache_key("train_mdpo", {"settings": settings, "dataset": dataset, "sft": sft})
    return _train("mdpo", settings, dataset, sft.checkpoint, workspace, key)
