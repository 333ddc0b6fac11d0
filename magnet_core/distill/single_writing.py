"""The user query and reference calls of one single-turn sample, on a model when one plays the role.

The same order as the multi-turn translation, with its helpers (`translate/writing.py`): the calls are
drafted offline against the sample's session; the query is written from the drafts (offline template, or
the query-writer model, made to state every value the drafts use, checked with `verify/grounding.py`
against the query alone); the reference calls are the drafts, or what the call-writer model reads back
from the query, one call per step, each value found in the query, on a fresh session of the sample's starting state (the sample's own
session stays untouched for the answer). So query and calls always agree, whichever role is on a model.
An irrelevance query asks for the target function, which is never offered: the model writes what the
offered functions cannot do, and nobody writes calls for it (the answer is a refusal). An unusable answer
is re-asked (`max_reasks`, the reason fed back); then `TranslationFailed` names the role and every attempt.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import CallResult
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.call_writer import WrittenCall, write_call_offline
from magnet_core.roles.values import ValueContext
from magnet_core.translate.models import CallTally
from magnet_core.translate.writing import TranslationFailed, WriterSettings, write_calls, write_query
from magnet_core.verify.grounding import require_grounded
from magnet_core.verify.outcomes import strict_outcome

STAGE = "single_turn"


@dataclass(frozen=True)
class SampleText:
    """The sample's user query and reference calls; `calls_by_model`: the call-writer model read the calls
    from the query (else they are the offline drafts the query was written from)."""

    query: str
    calls: list[FunctionCall]
    cost_usd: float = 0.0
    calls_by_model: bool = False


def draft_calls(kind: str, target: FunctionSpec, executor: CallExecutor, rng: random.Random,
                execute: bool) -> tuple[list[WrittenCall], list[CallResult]] | None:
    """(drafts, their results when `execute`), or None when a parallel sample finds no distinct second
    argument set. Executed drafts are the offline answer; each parallel set is drafted after the one
    before it ran, so it sees the state that call left."""
    drafts = [write_call_offline(target, executor.session, ValueContext(), rng)]
    executed = [strict_outcome(executor.execute(drafts[0].call))] if kind != "irrelevance" and execute else []
    if kind == "parallel":
        for _ in range(rng.randint(2, 4)):
            again = write_call_offline(target, executor.session, ValueContext(), random.Random(rng.random()))
            if all(again.call != d.call for d in drafts):
                drafts.append(again)
                if execute:
                    executed.append(strict_outcome(executor.execute(again.call)))
        if len(drafts) < 2:
            return None
    return drafts, executed


async def write_sample_text(pool: FunctionPool, kind: str, target: FunctionSpec, drafts: list[WrittenCall],
                            tools: list[dict[str, Any]], involved: list[str], initial_state: dict[str, Any],
                            rng: random.Random, config: WriterSettings, client) -> SampleText:
    """Every value must be in the query itself: a single-turn user has no conversation before it, and the
    starting state is not shown to the assistant, so a value the query leaves to it would be a guess."""
    schemas = {tool["function"]["name"]: tool["function"].get("parameters", {}) for tool in tools}
    schemas.setdefault(target.name, target.parameters)  # irrelevance: the target is not among the tools
    specs = [target] * len(drafts)

    def query_states_values(query: str) -> None:
        require_grounded([d.call for d in drafts], schemas, [query], set(), "query writer: the message must state")

    query, cost = await write_query(pool, specs, drafts, None, [], initial_state, rng, config, client, stage=STAGE,
                                    check=query_states_values)
    if kind == "irrelevance" or config.models.call_writer is None:
        return SampleText(query, [d.call for d in drafts], cost)

    def read_from_query(call: FunctionCall, earlier: list[CallResult]) -> None:
        require_grounded([call], schemas, [query], set(), "call writer: the request does not give")

    with CallExecutor(pool.new_session(involved, initial_state)) as executor:
        calls, results, calls_cost = await write_calls(query, [], specs, tools, executor, ValueContext(), config, client,
                                                       CallTally(), stage=STAGE, check=read_from_query)
    failed = [f"{r.call.to_bfcl()} -> {r.error}" for r in results if not r.ok]
    if failed:
        raise TranslationFailed("execution_error", "; ".join(failed)[:2000])
    if len({json.dumps(c.arguments, sort_keys=True, default=str) for c in calls}) < len(calls):
        raise TranslationFailed("repeated_parallel_call", f"the call writer repeated an argument set: {calls}")
    return SampleText(query, calls, cost + calls_cost, calls_by_model=True)


