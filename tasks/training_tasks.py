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
from tasks.task_log import core_logs_to_run
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
    sft_recipe: str = Field("", description="A recipe (sft, or a YAML path) replacing the reduced SFT settings above; "
                                            "recipes use bf16 and DeepSpeed: set use_cpu false")
    mdpo_recipe: str = Field("", description="A recipe (mdpo_7b_full, mdpo_14b_lora, or a YAML path) replacing the "
                                             "reduced mDPO settings above")
    deployment: str = Field("", description="flow/deployment that trains on the GPU pool (e.g. magnet-training/gpu), "
                                            "run as a subflow; empty = in this run's process")


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

    recipe = settings.sft_recipe if stage == "sft" else settings.mdpo_recipe
    if recipe:
        return _recipe_config(recipe, stage, settings, dataset_dir, model_path, output_dir)
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


def _recipe_config(recipe: str, stage: str, settings: TrainingSettings, dataset_dir: str, model_path: str,
                   output_dir: Path):
    """The paper's hyper-parameters (a recipe name or a YAML file); the run decides only paths, device and seed."""
    import yaml

    from magnet_core.train.config import TrainConfig, load_recipe

    path = Path(recipe)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.suffix in (".yaml", ".yml") else load_recipe(recipe)
    if raw.get("stage", stage) != stage:
        raise ValueError(f"recipe {recipe!r} is for stage {raw['stage']}, not {stage}")
    return TrainConfig.model_validate({**raw, "stage": stage, "model_path": Path(model_path),
                                      "dataset_dir": Path(dataset_dir), "output_dir": output_dir,
                                      "use_cpu": settings.use_cpu, "seed": settings.seed})


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

    from prefect.logging import get_run_logger

    output_dir = workspace.checkpoints / f"{stage}-{key}"
    config = _training_config(stage, settings, dataset.path, model.path, output_dir)
    with core_logs_to_run():  # loss per logging step and the trainer's warnings, in the task's Prefect log
        result = (run_sft if stage == "sft" else run_mdpo)(config)
    get_run_logger().info("%s: %d steps, final loss %s, checkpoint %s", stage, result.steps,
                          "n/a" if result.final_loss is None else f"{result.final_loss:.4f}", result.final_dir)
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
