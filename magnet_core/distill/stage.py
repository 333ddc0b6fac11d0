"""The distill stage: translated scenarios -> verified positive trajectories and preference pairs.

Positive: the teacher answers every turn with the turn's reference calls as a hidden hint; the stored
trajectory holds only what the assistant said and did, and must pass verification (reproduces the
references, asks on missing-info turns, no hint text). Negative: synthetic misleading hints of the five
error types give rejected turns against the verified chosen ones. Nothing is dropped silently: every
refusal is a `Reject` with its stage and reason.
"""

from __future__ import annotations

import asyncio
import random

from pydantic import BaseModel, ConfigDict, Field, field_validator

from magnet_core.domain.trajectory import ChatMessage, PreferencePair, Reject, Trajectory
from magnet_core.llm.types import ModelConfig
from magnet_core.distill.judged_leaks import judged_leak, judged_pairs
from magnet_core.distill.mined import mined_pairs
from magnet_core.distill.metadata import scenario_metadata, shuffled_tools
from magnet_core.distill.pairs import build_pair
from magnet_core.distill.perturb import perturbations
from magnet_core.distill.replay import SYSTEM_PROMPT, run_role
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.llm_role import (
    DEFAULT_MAX_REASKS,
    ITEM_LLM_ERRORS,
    LLMClientLike,
    RoleModels,
    only_roles,
    prompt_versions,
    require_client,
)
from magnet_core.roles.teacher import TeacherOutputError
from magnet_core.translate.models import TranslatedScenario
from magnet_core.verify.checks import verify_trajectory

DISTILL_ROLES = ("teacher", "negative_sampler", "error_judge")
LEAK_JUDGE = "leak_judge"  # opt-in check (registry OPT_IN_ROLES): in the slots, metadata only when it runs
STAGE = "distill"


class DistillConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    models: RoleModels = Field(default_factory=RoleModels)
    pairs_per_scenario: int = Field(default=2, ge=0, le=5)
    error_types: tuple[int, ...] = (1, 2, 3, 4, 5)
    student: ModelConfig | None = Field(default=None, description="Model sampled without hints for mined negatives")
    mined_per_scenario: int = Field(default=1, ge=0, le=10)
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    max_reasks: int = Field(default=DEFAULT_MAX_REASKS, ge=0, le=10,
                            description="Unusable model answers re-asked (error fed back) before the item is rejected")

    @field_validator("models")
    @classmethod
    def _called_roles_only(cls, models: RoleModels) -> RoleModels:
        return only_roles(models, (*DISTILL_ROLES, LEAK_JUDGE), "distill")

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles this config runs: the method's three, and the leak judge when a model plays it and a
        model writes stored text (template text has no guidance to leak, so it is never judged)."""
        writers = (self.models.teacher, self.models.negative_sampler)
        judged = self.models.leak_judge is not None and any(model is not None for model in writers)
        return (*DISTILL_ROLES, LEAK_JUDGE) if judged else DISTILL_ROLES

    @property
    def offline(self) -> bool:
        return self.models.offline_for(self.roles) and self.student is None


class DistillResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trajectories: list[Trajectory] = Field(default_factory=list)
    pairs: list[PreferencePair] = Field(default_factory=list)
    rejects: list[Reject] = Field(default_factory=list)
    offline: bool = True

    def summary(self) -> dict:
        return {"trajectories": len(self.trajectories), "pairs": len(self.pairs), "rejects": len(self.rejects),
                "offline": self.offline}


def distill(pool: FunctionPool, translated: list[TranslatedScenario], config: DistillConfig,
            client: LLMClientLike | None = None) -> DistillResult:
    require_client(client, config.models, config.roles)
    if config.student is not None and client is None:
        raise ValueError("a student model is configured for mined negatives but no LLM client was passed")
    return asyncio.run(_distill_all(pool, translated, config, client))


async def _distill_all(pool, translated, config, client) -> DistillResult:
    limit = asyncio.Semaphore(config.max_concurrency)

    async def one(item: TranslatedScenario):
        async with limit:
            return await distill_scenario(pool, item, config, client)

    result = DistillResult(offline=config.offline)
    for trajectory, pairs, rejects in await asyncio.gather(*(one(item) for item in translated)):
        if trajectory is not None:
            result.trajectories.append(trajectory)
        result.pairs += pairs
        result.rejects += rejects
    return result


async def distill_scenario(pool: FunctionPool, translated: TranslatedScenario, config: DistillConfig,
                           client: LLMClientLike | None) -> tuple[Trajectory | None, list[PreferencePair], list[Reject]]:
    scenario_id = translated.scenario.scenario_id
    rng = random.Random(f"{config.seed}:distill:{scenario_id}")
    tools = list(shuffled_tools([pool.spec(name) for name in translated.offered_functions], rng))
    hints = [list(turn.reference_calls) for turn in translated.turns]
    try:
        run = await run_role("teacher", pool, translated, hints, tools, rng, config.models.teacher, client,
                             max_reasks=config.max_reasks)
    except TeacherOutputError as error:
        return None, [], [Reject(stage=STAGE, item_id=scenario_id, reason="teacher_unusable", detail=str(error))]
    except ITEM_LLM_ERRORS as error:  # a budget stop propagates: the run halts and stays resumable
        return None, [], [Reject(stage=STAGE, item_id=scenario_id, reason="llm_error", detail=f"{type(error).__name__}: {error}")]
    system = ChatMessage(role="system", content=SYSTEM_PROMPT)
    models = config.models.names(config.roles)
    metadata = scenario_metadata(pool, translated, models, prompt_versions(config.roles), config.seed, run.cost_usd)
    trajectory = Trajectory(trajectory_id=f"{scenario_id}-traj", messages=(system, *[m for turn in run.turns for m in turn]),
                            tools=tuple(tools), scenario_id=scenario_id, metadata=metadata)
    problems = verify_trajectory(trajectory, run.results, [turn.label for turn in translated.turns], hints)
    if problems:
        detail = "; ".join(f"{p.code}: {p.detail}" for p in problems)[:2000]
        return None, [], [Reject(stage="verify", item_id=trajectory.trajectory_id, reason=problems[0].code, detail=detail,
                                 payload={"messages": trajectory.to_openai_messages()})]
    judge = config.models.leak_judge if LEAK_JUDGE in config.roles else None
    refused, judge_cost = await judged_leak(trajectory.messages, trajectory.trajectory_id, "verify",
                                            judge if config.models.teacher is not None else None, client,
                                            config.max_reasks, {"messages": trajectory.to_openai_messages()})
    if refused is not None:
        return None, [], [refused]
    if judge_cost:
        metadata = {**metadata, "cost_usd": round(metadata["cost_usd"] + judge_cost, 6)}
        trajectory = trajectory.model_copy(update={"metadata": metadata})
    pairs: list[PreferencePair] = []
    rejects: list[Reject] = []
    candidates = [p for p in perturbations(pool, list(translated.turns), rng) if p.error_type in config.error_types]
    rng.shuffle(candidates)
    try:
        for perturbation in candidates[: config.pairs_per_scenario]:
            outcome = await build_pair(pool, translated, run, system, tools, perturbation, rng,
                                       config.models.negative_sampler, client, metadata, config.max_reasks)
            (pairs if isinstance(outcome, PreferencePair) else rejects).append(outcome)
        if config.student is not None and config.mined_per_scenario:
            mined, refused = await mined_pairs(pool, translated, run, system, tools, config, client, metadata, rng)
            pairs += mined
            rejects += refused
    except ITEM_LLM_ERRORS as error:
        rejects.append(Reject(stage="distill.pairs", item_id=scenario_id, reason="llm_error",
                              detail=f"{type(error).__name__}: {error}"))
    pairs, refused_pairs = await judged_pairs(pairs, judge, client, config.max_reasks)
    return trajectory, pairs, rejects + refused_pairs
