"""Single-turn and irrelevance samples, from the same pool and roles as the multi-turn data.

single: one function offered, one call. parallel: one function, several argument sets in one answer.
multiple: several functions of a class offered, the right one called. irrelevance: only functions that
cannot serve the request are offered, and the answer is a refusal in text. Every sample runs against a
fresh backend session and passes the same verification as the multi-turn data.

Every role runs on its model when one is configured: the query writer writes the user query (stating
every value; an irrelevance query asks what the offered functions cannot do), the call writer reads the
reference calls back from it, the teacher answers (see `single_writing.py`); each row's
`metadata.models` says which text came from which model and which from the offline roles.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.plans import TurnLabel
from magnet_core.domain.trajectory import CallResult, ChatMessage, PreferencePair, Reject, ToolCall, Trajectory
from magnet_core.llm.types import LLMError
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.llm_role import (
    DEFAULT_MAX_REASKS,
    ITEM_LLM_ERRORS,
    OFFLINE,
    LLMClientLike,
    RoleModels,
    only_roles,
    prompt_versions,
    require_client,
    role_model_name,
)
from magnet_core.roles.teacher import TeacherOutputError, miss_func_text, model_turn, summary_text
from magnet_core.distill.metadata import shuffled_tools
from magnet_core.distill.replay import SYSTEM_PROMPT
from magnet_core.distill.single_pairs import build_single_pair
from magnet_core.distill.single_writing import STAGE, SampleText, draft_calls, write_sample_text
from magnet_core.distill.judged_leaks import judged_leak
from magnet_core.distill.stage import LEAK_JUDGE, DistillResult
from magnet_core.translate.initial_state import initial_state_for
from magnet_core.translate.writing import TranslationFailed
from magnet_core.verify.checks import verify_trajectory
from magnet_core.verify.outcomes import strict_outcome

KINDS = ("single", "parallel", "multiple", "irrelevance")
ROLES = ("query_writer", "call_writer", "teacher")


class SingleTurnConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    single: int = Field(default=10, ge=0)
    parallel: int = Field(default=5, ge=0)
    multiple: int = Field(default=10, ge=0)
    irrelevance: int = Field(default=5, ge=0)
    start: int = Field(default=0, ge=0, description="Index of the first sample of each kind (a top-up round continues after earlier ones)")
    pairs: dict[str, int] = Field(default_factory=dict, description="Preference pairs per kind, from the first samples of this range")
    models: RoleModels = Field(default_factory=RoleModels)
    max_concurrency: int = Field(default=8, ge=1, le=1024, description="Samples in flight (model teacher calls overlap)")
    max_reasks: int = Field(default=DEFAULT_MAX_REASKS, ge=0, le=10,
                            description="Unusable model answers re-asked (error fed back) before the sample is rejected")

    @field_validator("models")
    @classmethod
    def _called_roles_only(cls, models: RoleModels) -> RoleModels:
        return only_roles(models, (*ROLES, LEAK_JUDGE), STAGE)  # the opt-in leak judge reads the teacher's text

    @model_validator(mode="after")
    def _check_pairs(self) -> "SingleTurnConfig":
        unknown = sorted(set(self.pairs) - set(KINDS))
        if unknown or any(count < 0 for count in self.pairs.values()):
            raise ValueError(f"pairs: counts >= 0 per kind of {KINDS}; got {self.pairs}")
        return self

    @property
    def offline(self) -> bool:
        return self.models.offline_for(ROLES)


def generate_single_turn(pool: FunctionPool, config: SingleTurnConfig, client: LLMClientLike | None = None) -> DistillResult:
    require_client(client, config.models, ROLES)
    return asyncio.run(_generate_all(pool, config, client))


async def _generate_all(pool: FunctionPool, config: SingleTurnConfig, client) -> DistillResult:
    """Samples run concurrently (a model teacher's calls overlap, up to `max_concurrency`); each is seeded
    by its own (kind, index), and outcomes are collected in (kind, index) order, so the result is the same."""
    result = DistillResult(offline=config.offline)
    limit = asyncio.Semaphore(config.max_concurrency)

    async def one(kind: str, index: int):
        async with limit:
            return await _guarded_sample(pool, kind, index, config, client, index - config.start < config.pairs.get(kind, 0))

    jobs = [one(kind, index) for kind in KINDS for index in range(config.start, config.start + getattr(config, kind))]
    for outcomes in await asyncio.gather(*jobs):
        for outcome in outcomes:
            if isinstance(outcome, Reject):
                result.rejects.append(outcome)
            else:
                (result.trajectories if isinstance(outcome, Trajectory) else result.pairs).append(outcome)
    return result


async def _guarded_sample(pool: FunctionPool, kind: str, index: int, config: SingleTurnConfig, client,
                          want_pair: bool) -> list[Trajectory | PreferencePair | Reject]:
    """One sample (and its pair): any failure of this one sample is its reject, never the whole task's.

    LLM errors pass through: those that condemn one item are already its reject inside `_sample`; what
    escapes (a budget stop, a setup error) is meant to stop the run."""
    try:
        return await _sample(pool, kind, index, config, client, want_pair)
    except LLMError:
        raise
    except Exception as error:  # noqa: BLE001 - untrusted backends and values: record, keep going
        return [Reject(stage=STAGE, item_id=f"{kind}-{config.seed}-{index}", reason="sample_error",
                       detail=f"{type(error).__name__}: {str(error)[:1500]}")]


def _choose(pool: FunctionPool, kind: str, rng: random.Random):
    """(target function, offered functions)."""
    classes = pool.by_class  # built once per pool
    names = pool.class_names
    tool_class = rng.choice(names)
    specs = classes[tool_class]
    target = rng.choice([s for s in specs if s.required_params] if kind == "parallel" else specs)
    if kind == "multiple":
        others = [s for s in specs if s.name != target.name]
        return target, [target, *rng.sample(others, min(len(others), rng.randint(2, 4)))]
    if kind == "irrelevance":
        foreign = pool.specs_outside(tool_class) or [s for s in specs if s is not target]
        return target, rng.sample(foreign, min(len(foreign), rng.randint(2, 4)))
    return target, [target]


async def _sample(pool: FunctionPool, kind: str, index: int, config: SingleTurnConfig, client,
                  want_pair: bool = False) -> list[Trajectory | PreferencePair | Reject]:
    sample_id = f"{kind}-{config.seed}-{index}"
    rng = random.Random(f"{config.seed}:{kind}:{index}")
    target, offered = _choose(pool, kind, rng)
    involved = sorted({spec.qualified_name for spec in [target, *offered]})
    classes = sorted({pool.spec(name).tool_class for name in involved if pool.spec(name).tool_class})
    initial_state = (initial_state_for(classes, rng.randint(0, 2**31)) if pool.kind == "bfcl"
                     else pool.scenario_state(classes, config.seed * 100_003 + index))
    tools = list(shuffled_tools(offered, rng))
    teacher = config.models.teacher
    with CallExecutor(pool.new_session(involved, initial_state)) as executor:
        # offline answers are the executed drafts; with a call-writer model the calls come from the query
        drafted = draft_calls(kind, target, executor, rng, execute=teacher is None and config.models.call_writer is None)
        if drafted is None:
            return [Reject(stage=STAGE, item_id=sample_id, reason="no_second_argument_set",
                           detail=f"{target.name}: no distinct second argument set was found")]
        drafts, executed = drafted
        try:
            text = await write_sample_text(pool, kind, target, drafts, tools, involved, initial_state, rng, config, client)
            prompt = (ChatMessage(role="system", content=SYSTEM_PROMPT), ChatMessage(role="user", content=text.query))
            messages, results, cost = await _answer(kind, target, text, executed, prompt, tools, executor, rng, config,
                                                    client)
        except TranslationFailed as error:
            return [Reject(stage=STAGE, item_id=sample_id, reason=error.reason, detail=error.detail)]
        except TeacherOutputError as error:
            return [Reject(stage=STAGE, item_id=sample_id, reason="teacher_unusable", detail=str(error))]
        except ITEM_LLM_ERRORS as error:
            return [Reject(stage=STAGE, item_id=sample_id, reason="llm_error", detail=f"{type(error).__name__}: {error}")]
    # which model (or the offline role) wrote each text of the row: query, call values, answer (and who judged it)
    judged = (LEAK_JUDGE,) if config.models.leak_judge is not None and teacher is not None else ()
    models = {"query_writer": role_model_name(config.models.query_writer),
              "call_writer": role_model_name(config.models.call_writer) if text.calls_by_model else OFFLINE,
              "teacher": role_model_name(teacher), **config.models.names(judged)}
    metadata = {"category": kind, "plan_id": None, "plan_variant": None, "node_operations": [],
                "turn_labels": ["irrelevance" if kind == "irrelevance" else "normal"], "source_pool": pool.name,
                "pool_fingerprint": pool.fingerprint(), "initial_state": initial_state, "models": models,
                "offline": all(m == "offline" for m in models.values()), "simulated": executor.session.simulated,
                "seed": config.seed, "cost_usd": round(cost, 6), "prompt_versions": prompt_versions((*ROLES, *judged)),
                "target_function": target.qualified_name}
    trajectory = Trajectory(trajectory_id=sample_id, messages=(*prompt, *messages), tools=tuple(tools), metadata=metadata)
    label = TurnLabel.MISS_FUNC if kind == "irrelevance" else TurnLabel.NORMAL
    reference = [[]] if kind == "irrelevance" else [list(text.calls)]
    problems = verify_trajectory(trajectory, results, [label], reference, one_call_per_step=False)
    if problems:
        return [Reject(stage="verify", item_id=sample_id, reason=problems[0].code,
                       detail="; ".join(f"{p.code}: {p.detail}" for p in problems)[:2000],
                       payload={"messages": trajectory.to_openai_messages()})]
    if config.models.teacher is not None:  # template text has no guidance to leak: only a model's text is judged
        refused, judge_cost = await judged_leak(trajectory.messages, sample_id, "verify", config.models.leak_judge, client,
                                                config.max_reasks, {"messages": trajectory.to_openai_messages()})
        if refused is not None:
            return [refused]
        if judge_cost:
            metadata = {**metadata, "cost_usd": round(cost + judge_cost, 6)}
            trajectory = trajectory.model_copy(update={"metadata": metadata})
    if not want_pair:
        return [trajectory]
    offered_names = [spec.qualified_name for spec in offered]
    return [trajectory, build_single_pair(pool, kind, trajectory, reference[0], target.qualified_name, offered_names,
                                          involved, initial_state, f"{config.seed}:{kind}:{index}")]


async def _answer(kind: str, target: FunctionSpec, text: SampleText, executed: list[CallResult],
                  prompt: tuple[ChatMessage, ...], tools: list[dict[str, Any]], executor: CallExecutor,
                  rng: random.Random, config: SingleTurnConfig, client) -> tuple[list[ChatMessage], list[CallResult], float]:
    """(assistant and tool messages, executed results, cost of the sample's model calls so far and now).
    Offline, the reference calls are the answer (`executed`: the drafts already run, else run here) or,
    for irrelevance, a templated refusal; a teacher model answers with the calls as its hidden hint (none
    for irrelevance: it refuses on its own), parallel calls in one message."""
    teacher = config.models.teacher
    if teacher is not None:
        hint = [] if kind == "irrelevance" else text.calls
        outcome = await model_turn("teacher", hint, list(prompt), tools, executor, 0, client, teacher,
                                   max_reasks=config.max_reasks, parallel=kind == "parallel", stage=STAGE)
        return outcome.messages, outcome.results, text.cost_usd + outcome.cost_usd
    if kind == "irrelevance":
        return [ChatMessage(role="assistant", content=miss_func_text(target, rng))], [], text.cost_usd
    tool_calls = tuple(ToolCall(id=f"call_0_{i}", function=call) for i, call in enumerate(text.calls))
    results = [strict_outcome(await executor.aexecute(c)) for c in text.calls] if text.calls_by_model else executed
    messages = [ChatMessage(role="assistant", tool_calls=tool_calls),
                *[ChatMessage(role="tool", tool_call_id=c.id, content=r.output_text()) for c, r in zip(tool_calls, results)],
                ChatMessage(role="assistant", content=summary_text(results, rng))]
    return messages, results, text.cost_usd
