"""Run a translated scenario's turns through a role (teacher or negative sampler) on a fresh session.

Shared by positive trajectories and by the rejected side of preference pairs, so both see exactly the
environment the translation saw: the same initial state, replayed turn by turn. A function announced in
a user message (miss_func, BFCL's prompting mode) is offered to the role from that turn on: it joins the
request's tools, never the stored sample's `tools`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.plans import TurnLabel
from magnet_core.domain.trajectory import CallResult, ChatMessage, Turn
from magnet_core.execution.executor import CallExecutor
from magnet_core.llm.types import ModelConfig
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.llm_role import DEFAULT_MAX_REASKS, LLMClientLike
from magnet_core.roles.teacher import (
    TurnOutcome,
    miss_func_text,
    miss_param_text,
    model_turn,
    offline_turn,
    refusal_text,
    summary_text,
)
from magnet_core.prompts import load_prompt
from magnet_core.translate.loop import offered_for
from magnet_core.translate.models import TranslatedScenario

# The system prompt of every stored sample; evaluation shows the model the same one (EvalConfig default).
SYSTEM_PROMPT = load_prompt("assistant_system").text.strip()


@dataclass
class RoleRun:
    """Messages per turn (user message first) and the executed results, in call order."""

    turns: list[list[ChatMessage]] = field(default_factory=list)
    results: list[CallResult] = field(default_factory=list)
    cost_usd: float = 0.0


def new_executor(pool: FunctionPool, translated: TranslatedScenario) -> CallExecutor:
    _, session_names = offered_for(pool, translated.scenario.plan)
    return CallExecutor(pool.new_session(session_names, translated.scenario.initial_state))


def tools_at(pool: FunctionPool, turns: list[Turn] | tuple[Turn, ...], k: int, tools: list[dict]) -> list[dict]:
    """The tools a role may call in turn `k`: the sample's tools plus every function announced up to `k`."""
    announced = [pool.spec(name).to_openai_tool() for turn in turns[: k + 1] for name in turn.announced_functions]
    return [*tools, *announced]


def offline_closing(pool: FunctionPool, turn: Turn, rng: random.Random):
    if turn.label is TurnLabel.MISS_FUNC:
        return lambda results: miss_func_text(pool.spec(turn.withheld_function), rng)
    if turn.label is TurnLabel.MISS_PARAM:
        return lambda results: miss_param_text(pool.spec(turn.withheld_function), turn.withheld_param, rng)
    return lambda results: summary_text(results, rng)


async def run_turn(role: str, pool: FunctionPool, turn: Turn, hint: list[FunctionCall], history: list[ChatMessage],
                   tools: list[dict], executor: CallExecutor, rng: random.Random, model: ModelConfig | None,
                   client: LLMClientLike | None, sample_index: int = 0, max_reasks: int = DEFAULT_MAX_REASKS) -> TurnOutcome:
    if model is None:
        closing = offline_closing(pool, turn, rng)
        if not hint and turn.label is TurnLabel.NORMAL:  # a (wrong) refusal: say so, do not claim it was done
            closing = lambda results: refusal_text(rng)  # noqa: E731
        return offline_turn(hint, executor, turn.index, closing)
    return await model_turn(role, hint, history, tools, executor, turn.index, client, model, sample_index,
                            max_reasks=max_reasks)


async def run_role(role: str, pool: FunctionPool, translated: TranslatedScenario, hints: list[list[FunctionCall]],
                   tools: list[dict], rng: random.Random, model: ModelConfig | None, client: LLMClientLike | None,
                   max_reasks: int = DEFAULT_MAX_REASKS) -> RoleRun:
    run = RoleRun()
    history: list[ChatMessage] = [ChatMessage(role="system", content=SYSTEM_PROMPT)]
    with new_executor(pool, translated) as executor:
        for k, (turn, hint) in enumerate(zip(translated.turns, hints)):
            user = ChatMessage(role="user", content=turn.query)
            outcome = await run_turn(role, pool, turn, hint, [*history, user], tools_at(pool, translated.turns, k, tools),
                                     executor, rng, model, client, max_reasks=max_reasks)
            run.turns.append([user, *outcome.messages])
            run.results += outcome.results
            run.cost_usd += outcome.cost_usd
            history += [user, *outcome.messages]
    return run
