"""Call writer (forth-translation): a user query plus history -> concrete calls.

Offline, the writer chooses values itself (see `values.py`) and keeps the first candidate set that a
scratch copy of the scenario's session accepts; the query writer then describes exactly those calls, so
query and calls agree. With a model, the writer reads the query and answers one call per step (tool call or
BFCL call text, parsed strictly with `parse_calls` / `parse_openai_tool_calls`), sees its output, and
writes the next, so a nested call uses the real output of the call before it.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.execution.backends import BackendSession
from magnet_core.execution.call_parser import parse_calls, parse_openai_tool_calls
from magnet_core.execution.executor import argument_problem
from magnet_core.llm.types import LLMResponse
from magnet_core.prompts import load_prompt
from magnet_core.roles.llm_role import build_request
from magnet_core.roles.probe import Snapshot, harvest_state, probe_call
from magnet_core.roles.values import FROM_ARGUMENT, Candidate, ValueContext, candidates

ROLE = "call_writer"
MAX_PROBES = 120
RESERVED_PROBES = 20  # probes kept for each later attempt (fewer optional parameters, then all of them)
OPTIONAL_SHARE = 0.3


@dataclass(frozen=True)
class WrittenCall:
    """A call and, per argument, where its value came from (`output` values are referred to implicitly)."""

    call: FunctionCall
    sources: dict[str, str] = field(default_factory=dict)
    accepted_by_probe: bool | None = None
    probes: int = 0


def write_call_offline(spec: FunctionSpec, session: BackendSession, context: ValueContext, rng: random.Random,
                       probe: bool = True) -> WrittenCall:
    snapshot = Snapshot(session) if probe else None  # the session is not called until the call is written
    context.state = harvest_state(snapshot) if snapshot else []
    required = spec.required_params
    optional = [name for name in spec.param_properties if name not in required]
    options = {name: candidates(spec, name, context, rng) for name in spec.param_properties}
    chosen_optional = [name for name in optional if options[name]
                       and rng.random() < (0.7 if options[name][0].rank <= FROM_ARGUMENT else OPTIONAL_SHARE)]
    first: WrittenCall | None = None
    probes = 0
    every_optional = [name for name in optional if options[name]]
    attempts = [[*required, *chosen_optional], required, [*required, *every_optional]]
    unique_attempts = [names for position, names in enumerate(attempts) if names not in attempts[:position]]
    for position, names in enumerate(unique_attempts):
        fillable = [name for name in names if options[name]]
        # later attempts keep a share of the probes: a first attempt whose optional mix cannot work
        # (an insurance id where the backend needs the booking id) must not use them all up
        limit = MAX_PROBES - RESERVED_PROBES * (len(unique_attempts) - 1 - position)
        for picks in _distinct_first(_combinations([options[name] for name in fillable], rng)):
            call = FunctionCall(name=spec.name, arguments={name: pick.value for name, pick in zip(fillable, picks)})
            sources = {name: pick.source for name, pick in zip(fillable, picks)}
            if not probe:
                return WrittenCall(call, sources, None, 0)
            probes += 1
            result = probe_call(snapshot, call)
            if result is None:
                return WrittenCall(call, sources, None, probes)
            written = WrittenCall(call, sources, result.ok, probes)
            if result.ok:
                return written
            first = first or written
            if probes >= limit:
                break
        if probes >= MAX_PROBES:
            break
    if first is None:
        return WrittenCall(FunctionCall(name=spec.name, arguments={}), {}, False, probes)
    return WrittenCall(first.call, first.sources, False, probes)


def _combinations(columns: list[list[Candidate]], rng: random.Random):
    """Candidate sets best-first: by the sum of candidate positions, so near-best mixes come early."""
    if not columns:
        yield ()
        return
    sizes = [len(column) for column in columns]
    produced = 0
    for total in range(sum(sizes) - len(sizes) + 1):
        level = list(_compositions(total, sizes))
        rng.shuffle(level) if total else None
        for picks in level:
            yield tuple(column[i] for column, i in zip(columns, picks))
            produced += 1
            if produced >= MAX_PROBES:
                return


def _distinct_first(combos):
    """Sets whose arguments all differ first (`diff(a, a)` and `km -> km` are poor data), the rest after."""
    repeated = []
    for picks in combos:
        markers = [repr(pick.value) for pick in picks]
        if len(set(markers)) == len(markers):
            yield picks
        else:
            repeated.append(picks)
    yield from repeated


def _compositions(total: int, sizes: list[int]):
    if len(sizes) == 1:
        if total < sizes[0]:
            yield (total,)
        return
    for first in range(min(total, sizes[0] - 1) + 1):
        for rest in _compositions(total - first, sizes[1:]):
            yield (first, *rest)


def call_writer_request(query: str, history: list[dict[str, Any]], tools: list[dict[str, Any]],
                        turn_messages: list[dict[str, Any]] = (), sample_index: int = 0, stage: str = "translate"):
    """Step by step: `turn_messages` are this turn's calls so far with their outputs, so the next call
    can use a real value from the call before it."""
    prompt = load_prompt(ROLE)
    system = prompt.render(tools=json.dumps(tools, ensure_ascii=False))
    messages = [{"role": "system", "content": system}, *history, {"role": "user", "content": query}, *turn_messages]
    return build_request(ROLE, stage, messages, tools, {"temperature": 0.0}, sample_index)


def parse_written_calls(response: LLMResponse, offered: set[str]) -> list[FunctionCall]:
    """Strict: tool calls, or BFCL call text in the content; unknown functions are an error."""
    if response.tool_calls:
        calls = parse_openai_tool_calls(list(response.tool_calls))
    elif response.content and response.content.strip():
        calls = parse_calls(response.content)
    else:
        raise ValueError("call writer answered with neither calls nor text")
    unknown = sorted({call.name for call in calls} - offered)
    if unknown:
        raise ValueError(f"call writer used functions that are not offered: {unknown}")
    return calls


def parse_next_call(response: LLMResponse, schemas: dict[str, dict[str, Any]]) -> FunctionCall | None:
    """One step: the next call (the first, if several were written), or None for DONE. Arguments must fit
    the function's schema; anything else is an unusable answer (ValueError) and gets re-asked."""
    text = (response.content or "").strip()
    if not response.tool_calls and text.strip(" .!").upper() == "DONE":
        return None
    calls = parse_written_calls(response, set(schemas))
    if not calls:
        raise ValueError("call writer answered with an empty call list")
    problem = argument_problem(schemas[calls[0].name], calls[0].arguments)
    if problem:
        raise ValueError(f"call writer: arguments of {calls[0].name} do not fit its schema: {problem}")
    return calls[0]
