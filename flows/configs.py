"""Typed flow parameters: the UI renders each as a form and validates it before a run starts.

Stage settings are the stages' own configs (one definition each); what is added here is only what the
orchestration decides: where files go, shard sizes, the task runner, the spending cap, and the small
set of training knobs the pipeline exposes (the rest of `TrainConfig` keeps its defaults).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flows.model_roles import ResolvedModels, resolve_models
from flows.runners import RunnerSettings
from magnet_core.dataset.config import AssembleConfig, DatasetTarget
from magnet_core.distill.single_turn import SingleTurnConfig
from magnet_core.distill.stage import DistillConfig
from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig
from magnet_core.llm.types import ModelConfig
from magnet_core.translate.models import TranslateConfig
from tasks.evaluation_tasks import EvaluationSettings
from tasks.llm_usage import LLMSettings
from tasks.outputs import PoolSettings
from tasks.training_tasks import TrainingSettings


class PipelineConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    workdir: str = Field(".magnet", description="Artifacts, Prefect results (the cache), ledgers, checkpoints")
    run_name: str | None = Field(None, description="Names the run directory; default: the flow run's name")
    shard_size: int = Field(8, ge=1, le=10_000, description="Items per shard task")
    max_shards_per_stage: int = Field(
        256, ge=1, le=2_000, description="Upper bound on a stage's shard tasks: bigger inputs get bigger shards "
                                         "(Prefect keeps ~2,000 task runs of a flow's history)")
    models: dict[str, ModelConfig] = Field(default_factory=dict, description=(
        "Model aliases (alias -> litellm model, api_base, api_key_env, limits, prices). One alias named "
        "'teacher' and nothing else puts every model-backed role on it; none: the offline default"))
    roles: dict[str, str] = Field(default_factory=dict, description=(
        "Role -> model alias, e.g. student: small. Roles without an entry use the 'teacher' alias"))
    target: DatasetTarget | None = Field(
        None, description="Dataset size: SFT rows and preference pairs wanted (paper mixture) or counts per category. "
                          "When set, the factory derives plans, walks and single-turn counts from it and overrides "
                          "plans.max_plans, single_turn counts and the assemble mixtures")
    pool: PoolSettings = PoolSettings()
    graph: GraphStageConfig = GraphStageConfig()
    plans: PlanStageConfig = PlanStageConfig(max_plans=20)
    translate: TranslateConfig = TranslateConfig()
    distill: DistillConfig = DistillConfig()
    # Minimum counts per kind (0 switches a kind off): the pipeline raises them, and adds their preference
    # pairs, so that the paper's mixture keeps the multi-turn samples the plans give (flows/sizing.py).
    single_turn: SingleTurnConfig = SingleTurnConfig(single=22, parallel=22, multiple=22, irrelevance=18)
    assemble: AssembleConfig = AssembleConfig()
    training: TrainingSettings | None = TrainingSettings()
    evaluation: EvaluationSettings | None = Field(None, description="BFCL multi-turn evaluation of the final checkpoint")
    llm: LLMSettings = LLMSettings()
    min_keep_share: float = Field(
        0.2, ge=0, le=1, description="A translate, distill or single-turn stage that keeps fewer than this share of "
                                     "its items ends the run Failed, naming the top reject reasons (0 = never)")
    runner: RunnerSettings = RunnerSettings()

    @model_validator(mode="after")
    def _models_resolve(self) -> "PipelineConfig":
        resolve_models(self)  # refuses unknown roles/aliases, unused models and the old per-stage slots
        return self

    @property
    def resolved(self) -> ResolvedModels:
        """The stage configs with every role slot filled from `models:`/`roles:` (what the tasks run)."""
        return resolve_models(self)

    @property
    def offline(self) -> bool:
        return self.resolved.offline

    @property
    def dataset_root(self) -> Path:
        return Path(self.assemble.root)
