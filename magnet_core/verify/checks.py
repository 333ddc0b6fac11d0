"""Checks every trajectory passes before it is kept; each failure names its rule so rejects say why.

Rules: every call parses into an offered function and matches its schema (offered: the sample's tools,
plus a function whose schema a user message announced, from that turn on, as BFCL's prompting mode does
for miss_func); every executed call succeeded; a positive trajectory reproduces the reference calls turn
by turn; a missing-info turn asks instead of calling; multi-turn steps carry one call each, each answered
by its tool message; no hint text leaks into stored messages; no failure keywords in what the assistant
says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.plans import TurnLabel
from magnet_core.domain.trajectory import CallResult, ChatMessage, Trajectory
from magnet_core.execution.executor import argument_problem
from magnet_core.roles.announcer import announced_tools
from magnet_core.verify.leaks import leak_phrase

LEAK_PATTERNS = (re.compile(r"reference[_ ]calls?", re.IGNORECASE), re.compile(r"</?reference", re.IGNORECASE),
                 re.compile(r"\bhints?\b", re.IGNORECASE), re.compile(r"\bguidance\b", re.IGNORECASE))
FAILURE_KEYWORDS = ("traceback", "exception", "error", "failed", "failure", "unable to", "not found", "invalid",
                    "as an ai", "could not find any")


@dataclass(frozen=True)
class Problem:
    code: str
    detail: str


def turn_segments(messages: tuple[ChatMessage, ...]) -> list[list[ChatMessage]]:
    """Assistant/tool messages answering each user message, in order."""
    segments: list[list[ChatMessage]] = []
    for message in messages:
        if message.role == "user":
            segments.append([])
        elif segments and message.role in ("assistant", "tool"):
            segments[-1].append(message)
    return segments


def verify_trajectory(trajectory: Trajectory, results: list[CallResult], labels: list[TurnLabel],
                      reference: list[list[FunctionCall]] | None = None, one_call_per_step: bool = True) -> list[Problem]:
    """`results` align with `trajectory.assistant_calls`; `reference` (positives only) with the turns."""
    problems = offered_call_problems(trajectory)
    calls = trajectory.assistant_calls
    if len(results) != len(calls):
        problems.append(Problem("unexecuted_call", f"{len(calls)} calls but {len(results)} executions"))
    for result in results:
        if not result.ok:
            problems.append(Problem("execution_error", f"{result.call.to_bfcl()}: {result.error}"))
    segments = turn_segments(trajectory.messages)
    if len(segments) != len(labels):
        problems.append(Problem("turn_count", f"{len(segments)} answered turns, {len(labels)} expected"))
    for index, (segment, label) in enumerate(zip(segments, labels)):
        problems += _turn_problems(index, segment, label, one_call_per_step)
        if reference is not None and index < len(reference):
            made = [call.function for message in segment for call in message.tool_calls]
            if made != list(reference[index]):
                problems.append(Problem("reference_mismatch", f"turn {index}: made {[c.to_bfcl() for c in made]}, "
                                                              f"reference {[c.to_bfcl() for c in reference[index]]}"))
    problems += leakage_problems(trajectory.messages)
    return problems


def _schemas(tools: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {tool["function"]["name"]: tool["function"].get("parameters", {}) for tool in tools}


def offered_call_problems(trajectory: Trajectory) -> list[Problem]:
    """Each call names a function offered at its turn and fits that function's schema. A function
    announced in a user message counts from that message on; called earlier, it is not offered yet."""
    problems: list[Problem] = []
    schemas = _schemas(trajectory.tools)
    later = {name for m in trajectory.messages if m.role == "user" for name in _schemas(_announced(m))}
    turn = -1
    for message in trajectory.messages:
        if message.role == "user":
            turn += 1
            schemas = {**schemas, **_schemas(_announced(message))}
        for tool_call in message.tool_calls:
            call = tool_call.function
            if call.name not in schemas:
                when = " yet (a later user message announces it)" if call.name in later else ""
                problems.append(Problem("unknown_function", f"turn {turn}: {call.name} is not among the offered tools{when}"))
                continue
            issue = argument_problem(schemas[call.name], call.arguments)
            if issue:
                problems.append(Problem("schema_mismatch", f"{call.to_bfcl()}: {issue}"))
    return problems


def _announced(message: ChatMessage) -> list[dict[str, Any]]:
    return [tool for _, _, tool in announced_tools(message.content)] if message.role == "user" else []


def _turn_problems(index: int, segment: list[ChatMessage], label: TurnLabel, one_call_per_step: bool) -> list[Problem]:
    problems: list[Problem] = []
    calls = [call for message in segment for call in message.tool_calls]
    if label is not TurnLabel.NORMAL and calls:
        problems.append(Problem("missing_info_called", f"turn {index} ({label.value}) called {[c.function.name for c in calls]} instead of asking"))
    if not segment or segment[-1].role != "assistant" or segment[-1].tool_calls or not (segment[-1].content or "").strip():
        problems.append(Problem("no_closing_text", f"turn {index} does not end with assistant text"))
    for position, message in enumerate(segment):
        if one_call_per_step and len(message.tool_calls) > 1:
            problems.append(Problem("several_calls_in_step", f"turn {index}: {len(message.tool_calls)} calls in one message"))
        answered = {m.tool_call_id for m in segment[position + 1:] if m.role == "tool"}
        missing = [call.id for call in message.tool_calls if call.id not in answered]
        if missing:
            problems.append(Problem("unanswered_call", f"turn {index}: tool calls {missing} have no tool message"))
        if message.role == "assistant" and message.content and not message.tool_calls:
            lowered = message.content.lower()
            found = [word for word in FAILURE_KEYWORDS if word in lowered]
            if found:
                problems.append(Problem("failure_keyword", f"turn {index}: assistant text contains {found}"))
    return problems


def leakage_problems(messages: tuple[ChatMessage, ...] | list[ChatMessage]) -> list[Problem]:
    """Hint markers anywhere the model will read or learn from (text and call arguments), and any phrasing
    in assistant text that refers to private guidance (`leaks.py`: phrase and n-gram models)."""
    problems: list[Problem] = []
    for position, message in enumerate(messages):
        if message.role == "tool":
            continue  # tool outputs are the environment's words (a file may well mention a hint)
        texts = [_without_announced(message)] + [json.dumps(call.function.arguments) for call in message.tool_calls]
        for text in texts:
            for pattern in LEAK_PATTERNS:
                match = pattern.search(text)
                if match:
                    problems.append(Problem("hint_leakage", f"message {position} ({message.role}) contains {match.group(0)!r}"))
        phrase = leak_phrase(message.content) if message.role == "assistant" else None
        if phrase:
            problems.append(Problem("hint_leakage", f"message {position} (assistant) refers to private guidance: {phrase!r}"))
    return problems


def _without_announced(message: ChatMessage) -> str:
    """A user message's text without the function schemas it announces: those are the pool's own docs."""
    text = message.content or ""
    if message.role != "user":
        return text
    for start, end, _ in reversed(announced_tools(text)):
        text = text[:start] + text[end:]
    return text
