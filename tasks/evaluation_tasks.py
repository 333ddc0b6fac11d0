"""Prefect task over BFCL multi-turn evaluation of the trained checkpoint (in-process transformers).

The evaluation keeps one record per finished case in its output directory, named by the cache key, so
a killed evaluation resumes case by case and a finished one is served from the cache.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from magnet_core.evaluate.bfcl_data import CATEGORIES, Category, SingleTurnCategory
from tasks.cache_keys import stage_cache_key
from tasks.options import stage_task
from tasks.task_log import core_logs_to_run
from tasks.training_tasks import TrainOutput
from tasks.workspace import Workspace


class EvaluationSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    categories: tuple[Category | SingleTurnCategory, ...] = CATEGORIES  # single-turn ones too (BFCL-v3 suite)
    sample_size: int | None = Field(2, ge=1, description="Cases per category (empty = all 200)")
    seed: int = 0
    max_steps_per_turn: int = Field(20, ge=1)
    local_max_new_tokens: int = Field(256, ge=1)


class EvalOutput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    output_dir: str
    report_md: str
    overall: float
    accuracy: dict[str, float]
    complete: bool


@stage_task("evaluate", name="evaluate")
def evaluate_task(settings: EvaluationSettings, checkpoint: TrainOutput, workspace: Workspace) -> EvalOutput:
    key = stage_cache_key("evaluate", {"settings": settings, "checkpoint": checkpoint})
    output_dir = Path(workspace.root) / "evaluations" / key
    with core_logs_to_run():
        result = _evaluate(settings, checkpoint, output_dir)
    from prefect.logging import get_run_logger

    get_run_logger().info("evaluation of the %s checkpoint: overall %.3f (%s)%s", checkpoint.stage, result.overall,
                          ", ".join(f"{k} {v:.3f}" for k, v in sorted(result.accuracy.items())),
                          "" if result.complete else "; incomplete")
    return EvalOutput(key=key, output_dir=str(output_dir), report_md=str(result.report_md), overall=result.overall,
                      accuracy=dict(result.accuracy), complete=result.complete)


def _evaluate(settings: EvaluationSettings, checkpoint: TrainOutput, output_dir: Path):
    from magnet_core.evaluate.config import EvalConfig
    from magnet_core.evaluate.runner import run_evaluation

    return run_evaluation(EvalConfig(
        output_dir=output_dir, categories=settings.categories, sample_size=settings.sample_size, seed=settings.seed,
        local_model_path=Path(checkpoint.checkpoint.path), label=f"{checkpoint.stage} checkpoint",
        max_steps_per_turn=settings.max_steps_per_turn, local_max_new_tokens=settings.local_max_new_tokens))
