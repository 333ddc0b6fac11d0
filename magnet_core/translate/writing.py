"""Writing one turn: drafts, the query, and (with a call-writer model) the calls, step by step.

Query and calls always agree, whichever roles run on a model:
- the turn's calls are first *drafted* offline against the live state (with a call-writer model, on a
  scratch copy, each draft executed there so a nested draft sees a real output);
- the query is written from the drafts (offline template, or the query-writer model shown the starting
  state, the conversation and the drafted calls, and made to state every value they need);
- the reference calls are the drafts (no call-writer model), or what the call-writer model reads from the
  query, one call per step against the live session, each step seeing the outputs before it.
So "only query_writer" and "only call_writer" setups are both consistent by construction.
Every model answer is checked and re-asked (bounded, `TranslateConfig.max_reasks`) before the scenario
is rejected with every attempt in the reason.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any, Protocol

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import CallResult
from magnet_core.execution.backends import BackendSession
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.call_writer import WrittenCall, call_writer_request, parse_next_call, write_call_offline
from magnet_core.roles.llm_role import ReaskExhausted, RoleModels, complete_parsed
from magnet_core.roles.probe import scratch_copy
from magnet_core.roles.query_writer import parse_query, query_writer_request, stated_values, write_query_offline
from magnet_core.roles.simulator import simulate_output
from magnet_core.roles.values import ValueContext
from magnet_core.translate.models import CallTally, TranslateConfig
from magnet_core.verify.outcomes import strict_outcome


class WriterSettings(Protocol):
    """What the writers read from a stage config: the translate stage's and the single-turn stage's
    (both write queries and calls with the same roles, prompts and re-asks)."""

    @property
    def models(self) -> RoleModels: ...

    @property
    def max_reasks(self) -> int: ...


class TranslationFailed(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


async def draft_turn(specs: list[FunctionSpec], session: BackendSession, context: ValueContext, rng: random.Random,
               config: TranslateConfig, asked: WrittenCall | None = None) -> list[WrittenCall]:
    """The turn's calls as the offline writer would make them, run on a scratch copy (the live session
    and `context` untouched), so the second draft can use the first draft's real output. `asked`: the
    pending miss_param ask this turn does (its draft is the first call, as offline)."""
    def first_or_new(position: int, spec: FunctionSpec, target: BackendSession, values: ValueContext, probe: bool):
        if position == 0 and asked is not None and asked.call.name == spec.name and asked.accepted_by_probe is not False:
            return asked
        return write_call_offline(spec, target, values, rng, probe=probe)

    scratch = scratch_copy(session) if config.probe_values else None
    if scratch is None:
        return [first_or_new(i, spec, session, context, False) for i, spec in enumerate(specs)]
    scratch_context = copy.deepcopy(context)
    drafts = []
    with CallExecutor(scratch, timeout_s=config.call_timeout_s) as executor:
        for position, spec in enumerate(specs):
            draft = first_or_new(position, spec, scratch, scratch_context, True)
            result = strict_outcome(await executor.aexecute(draft.call))
            if result.ok:
                scratch_context.add_output(result.output)
                scratch_context.add_arguments(draft.call.arguments)
            drafts.append(draft)
    return drafts


async def write_query(pool: FunctionPool, specs: list[FunctionSpec], drafts: list[WrittenCall], omit: str | None,
                      history: list[dict[str, Any]], initial_state: dict[str, Any], rng: random.Random,
                      config: WriterSettings, client, *, stage: str = "translate",
                      check: Callable[[str], None] | None = None) -> tuple[str, float]:
    """`check` (raises ValueError) refuses a parsed query for a stage's own reason (single-turn: a value
    the calls use is not in it); like any unusable answer, it is re-asked with the reason fed back."""
    if config.models.query_writer is None:
        return write_query_offline(list(zip(specs, drafts)), rng, omit), 0.0
    request = query_writer_request(specs, drafts, history, omit, initial_state, stage=stage)
    names = pool.plain_names  # built once per pool
    required = stated_values(drafts, omit)

    def parse(response) -> str:
        query = parse_query(response, names, required)
        if check is not None:
            check(query)
        return query

    try:
        return await complete_parsed(client, config.models.query_writer, request, parse, config.max_reasks,
                                     "query writer")
    except ReaskExhausted as error:
        raise TranslationFailed("query_writer_unusable", str(error)) from None


async def write_calls(query: str, history: list[dict[str, Any]], specs: list[FunctionSpec], tools: list[dict[str, Any]],
                      executor: CallExecutor, context: ValueContext, config: WriterSettings, client,
                      tally: CallTally, *, stage: str = "translate",
                      check: Callable[[FunctionCall, list[CallResult]], None] | None = None) -> tuple[list[FunctionCall], list[CallResult], float]:
    """The call-writer model reads `query` and writes one call per step, each executed before the next is
    asked; it stops after as many calls as the plan's turn has, or when it answers DONE. `check(call, results
    so far)` (raises ValueError) refuses a parsed call for a stage's own reason (a value neither the
    conversation nor an earlier output gives), re-asked like any unusable answer."""
    schemas = {tool["function"]["name"]: tool["function"].get("parameters", {}) for tool in tools}
    by_name = {spec.name: spec for spec in specs}
    calls: list[FunctionCall] = []
    results: list[CallResult] = []
    turn_messages: list[dict[str, Any]] = []
    cost = 0.0
    for step in range(len(specs)):
        request = call_writer_request(query, history, tools, turn_messages, stage=stage)

        def parse(response) -> FunctionCall | None:
            call = parse_next_call(response, schemas)
            if call is not None and check is not None:
                check(call, results)
            return call

        try:
            call, step_cost = await complete_parsed(client, config.models.call_writer, request, parse,
                                                    config.max_reasks, f"call writer (step {step})")
        except ReaskExhausted as error:
            raise TranslationFailed("call_writer_unusable", str(error)) from None
        cost += step_cost
        if call is None:
            break
        if call.name not in by_name:
            raise TranslationFailed("calls_do_not_match_plan",
                                    f"wrote {[c.name for c in calls + [call]]}, plan has {[s.name for s in specs]}")
        result, call_cost = await execute_reference(call, by_name[call.name], executor, context, config, client, tally)
        calls.append(call)
        results.append(result)
        cost += call_cost
        call_id = f"w{step}"
        turn_messages += [{"role": "assistant", "content": None, "tool_calls": [call.to_openai_tool_call(call_id)]},
                          {"role": "tool", "tool_call_id": call_id, "content": result.output_text()}]
    if sorted(c.name for c in calls) != sorted(s.name for s in specs):
        raise TranslationFailed("calls_do_not_match_plan", f"wrote {[c.name for c in calls]}, plan has {[s.name for s in specs]}")
    return calls, results, cost


async def execute_reference(call: FunctionCall, spec: FunctionSpec, executor: CallExecutor, context: ValueContext,
                            config: WriterSettings, client, tally: CallTally) -> tuple[CallResult, float]:
    cost = 0.0
    if executor.session.simulated and config.models.simulator is not None:
        result, cost = await simulate_output(spec, call, client, config.models.simulator, max_reasks=config.max_reasks)
    else:
        result = strict_outcome(await executor.aexecute(call))
    tally.record(result)
    if result.ok:
        context.add_output(result.output)
        context.add_arguments(call.arguments)
    return result, cost
