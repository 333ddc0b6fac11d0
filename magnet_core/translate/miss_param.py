"""Which required parameter a miss_param turn leaves out, and with which value its ask is then done.

A miss_param turn teaches the model to ask for a value it cannot know. When an earlier tool output or
user turn already gave the value (`round_number(number=50.0)` right after an `add` that returned 50.0),
the right answer is to reuse it, so such a value is never the one left out (`given_values`). In order:
the planned parameter with the draft's value; another required parameter whose draft value is new; a
required parameter redrafted with a candidate value the conversation has not shown (accepted by a probe
on a scratch session, as the offline call writer's own values are); else the scenario is rejected as
`miss_param_value_given`. The turn after the ask does it with exactly this draft (offline), so the value
the user finally supplies is the one left out. A different parameter than planned is recorded in the plan.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.plans import NodeOperation, NodeOperationKind, Plan, TurnLabel
from magnet_core.execution.backends import BackendSession
from magnet_core.roles.call_writer import WrittenCall
from magnet_core.roles.probe import probe_call
from magnet_core.roles.values import ValueContext, candidates
from magnet_core.translate.given_values import GivenValues, given_in, is_given

MAX_REDRAFT_PROBES = 24


def choose_omission(spec: FunctionSpec, draft: WrittenCall, planned: str, history: list[dict[str, Any]],
                    session: BackendSession, context: ValueContext, rng: random.Random,
                    probe: bool = True) -> tuple[WrittenCall | None, str | None, str]:
    """(draft, parameter to leave out, why it differs from the plan); (None, None, why) when none fits."""
    given = given_in(history)
    arguments = draft.call.arguments
    if planned not in arguments or not is_given(arguments[planned], given):
        return draft, planned, ""
    for name in spec.required_params:
        if name != planned and name in arguments and not is_given(arguments[name], given):
            return draft, name, f"withholds {name!r} instead of {planned!r}: the conversation already gave {arguments[planned]!r}"
    redrafted = _redraft(spec, draft, [planned, *(n for n in spec.required_params if n != planned)], given,
                         session, context, rng, probe)
    if redrafted is not None:
        name = redrafted[1]
        return redrafted[0], name, (f"{name!r} redrafted with a value the conversation has not given "
                                    f"(it had {arguments.get(name)!r})")
    shown = ", ".join(f"{name}={arguments.get(name)!r}" for name in spec.required_params)
    return None, None, f"every required value of {spec.name} ({shown}) was already given by an earlier turn, and no new value was accepted"


def _redraft(spec: FunctionSpec, draft: WrittenCall, order: list[str], given: GivenValues, session: BackendSession,
             context: ValueContext, rng: random.Random, probe: bool) -> tuple[WrittenCall, str] | None:
    probes = 0
    for name in order:
        for candidate in candidates(spec, name, context, rng):
            if is_given(candidate.value, given):
                continue
            call = FunctionCall(name=spec.name, arguments={**draft.call.arguments, name: candidate.value})
            sources = {**draft.sources, name: candidate.source}
            if not probe:
                return WrittenCall(call, sources, None, draft.probes), name
            probes += 1
            result = probe_call(session, call)
            if result is None or result.ok:
                return WrittenCall(call, sources, None if result is None else True, draft.probes + probes), name
            if probes >= MAX_REDRAFT_PROBES:
                return None
    return None


def record_param_swaps(plan: Plan, turns: Sequence[Any]) -> Plan:
    """The plan as translated: a miss_param turn that left out another parameter than planned says so,
    in its turn and as a node operation."""
    plan_turns = list(plan.turns)
    operations = list(plan.operations)
    for turn in turns:
        planned = plan_turns[turn.index]
        if planned.label is TurnLabel.MISS_PARAM and turn.withheld_param != planned.withheld_param:
            plan_turns[turn.index] = planned.model_copy(update={"withheld_param": turn.withheld_param})
            operation = NodeOperation(kind=NodeOperationKind.SPLIT_MISS_PARAM, turn_index=turn.index,
                                      functions=(planned.withheld_function,),
                                      detail=f"withholds {turn.withheld_param!r} instead of {planned.withheld_param!r}: "
                                             "an earlier turn already gave that value")
            if operation not in operations:
                operations.append(operation)
    if plan_turns == list(plan.turns):
        return plan
    return plan.model_copy(update={"turns": tuple(plan_turns), "operations": tuple(operations)})
