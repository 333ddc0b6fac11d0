"""From the pipeline config's one `models:`/`roles:` mapping to the stage configs the tasks run.

Which roles each configured stage calls is written down here, once; `magnet_core.llm.registry` does
the resolution (and refuses what cannot be meant). The stage configs keep their `RoleModels` slots as
the *resolved* form only: a user never fills them (`PipelineConfig` refuses it), so there is one way
to name a model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from magnet_core.distill.single_turn import KINDS as SINGLE_TURN_KINDS
from magnet_core.distill.single_turn import ROLES as SINGLE_TURN_ROLES
from magnet_core.distill.single_turn import SingleTurnConfig
from magnet_core.distill.stage import DISTILL_ROLES, LEAK_JUDGE, DistillConfig
from magnet_core.graph.stage import GraphStageConfig
from magnet_core.llm.registry import DEFAULT_ALIAS, ModelRegistryError, distinct_models, resolve_roles
from magnet_core.llm.types import ModelConfig
from magnet_core.roles.llm_role import RoleModels
from magnet_core.translate.models import TRANSLATE_ROLES, TranslateConfig

if TYPE_CHECKING:
    from flows.configs import PipelineConfig

# Stage-level slots that used to name models; refused so that models are named only at the top level.
OLD_SLOTS = ("translate.models", "distill.models", "distill.student", "single_turn.models")


class ResolvedModels(BaseModel):
    """The stage configs with their role slots filled from the registry, and the role -> model map."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by_role: dict[str, ModelConfig] = Field(default_factory=dict)
    graph: GraphStageConfig
    translate: TranslateConfig
    distill: DistillConfig
    single_turn: SingleTurnConfig

    @property
    def labeller(self) -> ModelConfig | None:
        return self.by_role.get("category_labeller")

    @property
    def judge(self) -> ModelConfig | None:
        return self.by_role.get("dependency_judge")

    @property
    def offline(self) -> bool:
        return not self.by_role

    def distinct(self, roles: Iterable[str] | None = None) -> list[tuple[tuple[str, ...], ModelConfig]]:
        """Each distinct model once with the roles it plays, among `roles` (default: every resolved role)."""
        keep = set(self.by_role if roles is None else roles)
        return distinct_models({role: model for role, model in self.by_role.items() if role in keep})


def judge_on_model(config: "PipelineConfig") -> bool:
    """Whether the graph stage calls the dependency_judge role: `llm`, or `auto` with a model for it
    (`roles.dependency_judge`, or a `teacher` alias, which every unmapped role follows)."""
    if config.graph.judge == "auto":
        return "dependency_judge" in config.roles or DEFAULT_ALIAS in config.models
    return config.graph.judge == "llm"


def called_roles(config: "PipelineConfig") -> dict[str, list[str]]:
    """role -> the configured stages that call it."""
    calls: dict[str, list[str]] = {"category_labeller": ["pool"]}  # pools without categories get labelled
    if judge_on_model(config):
        calls["dependency_judge"] = ["graph"]
    for role in TRANSLATE_ROLES:
        calls.setdefault(role, []).append("translate")
    for role in (*DISTILL_ROLES, LEAK_JUDGE, "student"):  # the leak judge only with its own roles: entry
        calls.setdefault(role, []).append("distill")
    if any(getattr(config.single_turn, kind) for kind in SINGLE_TURN_KINDS):
        for role in (*SINGLE_TURN_ROLES, LEAK_JUDGE):  # query, call values, answer: each on its role's model
            calls.setdefault(role, []).append("single_turn")
    return calls


def roles_this_run(config: "PipelineConfig", wanted: Iterable[str], pool_unlabelled: bool) -> set[str]:
    """The roles this run will call: those of `called_roles` whose stage runs (single_turn runs with
    distill), the category labeller only when the pool leaves functions without a category."""
    running = set(wanted) | ({"single_turn"} if "distill" in wanted else set())
    if not pool_unlabelled:
        running.discard("pool")
    return {role for role, stages in called_roles(config).items() if running & set(stages)}


def old_slot_problems(config: "PipelineConfig") -> list[str]:
    filled = {"translate.models": config.translate.models != RoleModels(),
              "distill.models": config.distill.models != RoleModels(),
              "distill.student": config.distill.student is not None,
              "single_turn.models": config.single_turn.models != RoleModels()}
    return [f"{slot}: models are named once, in the top-level models: (alias -> model) and roles: (role -> alias)"
            for slot in OLD_SLOTS if filled[slot]]


def resolve_models(config: "PipelineConfig") -> ResolvedModels:
    problems = old_slot_problems(config)
    if problems:
        raise ModelRegistryError("; ".join(problems))
    by_role = resolve_roles(config.models, config.roles, called_roles(config))
    if config.graph.judge == "llm" and "dependency_judge" not in by_role:
        raise ModelRegistryError("graph.judge: 'llm' needs a model for the dependency_judge role "
                                 "(a models.teacher alias or roles.dependency_judge)")

    def slots(roles: tuple[str, ...]) -> RoleModels:
        return RoleModels(**{role: by_role[role] for role in roles if role in by_role})

    return ResolvedModels(
        by_role=by_role,  # the graph config names the judge that runs: `auto` never reaches the stage
        graph=config.graph.model_copy(update={"judge": "llm" if "dependency_judge" in by_role else "heuristic"}),
        translate=config.translate.model_copy(update={"models": slots(TRANSLATE_ROLES)}),
        distill=config.distill.model_copy(update={"models": slots((*DISTILL_ROLES, LEAK_JUDGE)),
                                                  "student": by_role.get("student")}),
        single_turn=config.single_turn.model_copy(update={"models": slots((*SINGLE_TURN_ROLES, LEAK_JUDGE))}),
    )
