"""The translate stage: plans -> translated scenarios (executed turns) plus rejects with reasons.

A pure function of (pool, plans, config): every scenario's randomness is seeded from (seed, plan_id), so
a plan translates the same way whatever shard or order it comes in.
"""

from __future__ import annotations

import asyncio

from magnet_core.domain.plans import Plan
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.llm_role import LLMClientLike, require_client
from magnet_core.translate.loop import translate_plan
from magnet_core.translate.models import TRANSLATE_ROLES, CallTally, TranslateConfig, TranslatedScenario, TranslateResult

__all__ = ["TranslateConfig", "TranslateResult", "TranslatedScenario", "translate_plans"]


def translate_plans(pool: FunctionPool, plans: list[Plan], config: TranslateConfig,
                    client: LLMClientLike | None = None) -> TranslateResult:
    require_client(client, config.models, TRANSLATE_ROLES)
    chosen = [plan for plan in plans if config.in_shard(plan.plan_id)]
    return asyncio.run(_translate_all(pool, chosen, config, client))


async def _translate_all(pool: FunctionPool, plans: list[Plan], config: TranslateConfig,
                         client: LLMClientLike | None) -> TranslateResult:
    limit = asyncio.Semaphore(config.max_concurrency)
    tallies = [CallTally() for _ in plans]

    async def one(plan: Plan, tally: CallTally):
        async with limit:
            return await translate_plan(pool, plan, config, client, tally)

    outcomes = await asyncio.gather(*(one(plan, tally) for plan, tally in zip(plans, tallies)))
    result = TranslateResult(offline=config.offline)
    for outcome in outcomes:
        if isinstance(outcome, TranslatedScenario):
            result.translated.append(outcome)
        else:
            result.rejects.append(outcome)
    for tally in tallies:
        result.calls.executed += tally.executed
        result.calls.succeeded += tally.succeeded
        for name, count in tally.failures_by_function.items():
            result.calls.failures_by_function[name] = result.calls.failures_by_function.get(name, 0) + count
    return result
