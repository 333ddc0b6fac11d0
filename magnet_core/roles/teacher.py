"""Teacher (positive hints) and negative sampler (misleading hints): one assistant turn, one call per step.

Both roles get the turn's hint as `<reference_calls>[...]</reference_calls>` inside their system prompt;
the hint lives only in the request and never in the stored messages. With a model, the role is asked
again after every executed call until it answers in text (bounded); an unusable answer (unparseable, a
function not offered, arguments off the schema, an empty reply, broken JSON or call text where a
closing message belongs, text that mentions the guidance) is
re-asked with the error fed back. Offline, the role follows the hint
directly and writes the closing text from the outputs; everything it writes says nothing of the hint.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from magnet_core.domain.calls import FunctionCall, calls_to_bfcl
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import CallResult, ChatMessage, ToolCall
from magnet_core.execution.call_parser import CallParseError, parse_calls, parse_openai_tool_calls
from magnet_core.execution.executor import CallExecutor
from magnet_core.llm.types import LLMRequest, LLMResponse, ModelConfig
from magnet_core.prompts import load_prompt
from magnet_core.execution.executor import argument_problem
from magnet_core.roles.llm_role import DEFAULT_MAX_REASKS, LLMClientLike, ReaskExhausted, build_request, complete_parsed
from magnet_core.verify.leaks import leak_phrase
from magnet_core.roles.text import as_request, humanize, param_phrase, short_value
from magnet_core.verify.outcomes import strict_outcome

SUMMARY_OPENERS = ("All done.", "Here is what I found.", "Finished.", "That's taken care of.", "Done.")
MISS_FUNC_TEXT = ("None of the tools I have can {ask}, so I can't do that part. If a tool for it becomes available, "
                  "I'll take care of it.", "I don't have a way to {ask} with the tools available here. "
                  "Is there something else I can help with?")
MISS_PARAM_TEXT = ("I can {ask}, but I still need the {phrase}. What should I use?",
                   "To {ask} I need one more detail: the {phrase}. Could you tell me?")
REFUSAL_TEXT = ("I can't do that with the tools I have here.", "That isn't something the available tools let me do.")
EXTRA_STEPS = 3
# A closing message is prose: text opening like JSON, a call list or a tool-call tag is a broken attempt at
# calls (or a JSON answer) and is re-asked, never stored as what the assistant said.
BROKEN_ATTEMPT_OPENERS = ("{", "[", "```", "<tool_call", "<function")
STEP_RULE = "make exactly one function call per message, wait for its output, then decide the next step"
PARALLEL_RULE = ("the calls below are independent of each other: make all of them together in one message, "
                 "then summarise their outputs")


class TeacherOutputError(ValueError):
    """The role's answer could not be used (unparseable, unknown function, no closing text)."""


@dataclass
class TurnOutcome:
    messages: list[ChatMessage] = field(default_factory=list)
    results: list[CallResult] = field(default_factory=list)
    cost_usd: float = 0.0


def offline_turn(hint: list[FunctionCall], executor: CallExecutor, turn_index: int,
                 closing: Callable[[list[CallResult]], str]) -> TurnOutcome:
    """Follow the hint as given, one call per step, then close with `closing(results)`."""
    outcome = TurnOutcome()
    for call in hint:
        _append_call(outcome, call, strict_outcome(executor.execute(call)), turn_index)
    outcome.messages.append(ChatMessage(role="assistant", content=closing(outcome.results)))
    return outcome


async def model_turn(role: str, hint: list[FunctionCall] | None, history: list[ChatMessage], tools: list[dict[str, Any]],
                     executor: CallExecutor, turn_index: int, client: LLMClientLike, model: ModelConfig,
                     sample_index: int = 0, *, max_steps: int | None = None, max_reasks: int = DEFAULT_MAX_REASKS,
                     parallel: bool = False, stage: str = "distill") -> TurnOutcome:
    """`hint=None` samples a student as it is: no role prompt, only the conversation (mined negatives).

    Each step is asked until its answer is usable (parseable, offered functions, arguments that fit the
    schema, closing text that says nothing of the guidance), at most `max_reasks` times more. `max_steps`
    bounds the answers of the turn and always leaves one for the closing text. `parallel` keeps the calls
    of one answer in one message (single-turn "parallel" samples); otherwise each call is its own step.
    `stage` is what the ledger books the requests under (distill, or single_turn).
    """
    outcome = TurnOutcome()
    schemas = {tool["function"]["name"]: tool["function"].get("parameters", {}) for tool in tools}
    system = [] if hint is None else [{"role": "system", "content": load_prompt(role).render(
        hint=calls_to_bfcl(hint), step_rule=PARALLEL_RULE if parallel else STEP_RULE)}]
    params = {"temperature": 0.0 if hint is not None else 0.8}
    steps = max_steps if max_steps is not None else len(hint or ()) + EXTRA_STEPS
    for _ in range(steps + 1):  # + 1: the closing text always has its own step
        messages = [*system, *[m.to_openai() for m in history + outcome.messages]]
        if hint is None:
            request = LLMRequest(role=role, stage=stage, messages=tuple(messages), tools=tuple(tools), params=params,
                                 prompt_version="student@plain", sample_index=sample_index)
        else:
            request = build_request(role, stage, messages, tools, params, sample_index)
        try:
            (calls, text), cost = await complete_parsed(client, model, request, lambda r: checked_answer(r, schemas),
                                                        max_reasks, role)
        except ReaskExhausted as error:
            outcome.cost_usd += error.cost_usd
            raise TeacherOutputError(str(error)) from None
        outcome.cost_usd += cost
        if not calls:
            outcome.messages.append(ChatMessage(role="assistant", content=text))
            return outcome
        if parallel:
            _append_calls(outcome, calls, [strict_outcome(await executor.aexecute(call)) for call in calls], turn_index)
        else:
            for call in calls:  # several calls in one answer still become one call per step
                _append_call(outcome, call, strict_outcome(await executor.aexecute(call)), turn_index)
    raise TeacherOutputError(f"{role} made {len(outcome.results)} calls without closing the turn in text")


def checked_answer(response: LLMResponse, schemas: dict[str, dict[str, Any]]) -> tuple[list[FunctionCall], str | None]:
    """`parse_teacher_answer`, plus argument types against the schema and no reference to the guidance."""
    calls, text = parse_teacher_answer(response, set(schemas))
    for call in calls:
        problem = argument_problem(schemas[call.name], call.arguments)
        if problem:
            raise TeacherOutputError(f"arguments of {call.name} do not fit its schema: {problem}")
    leak = leak_phrase(text)
    if leak:
        raise TeacherOutputError(f"the text refers to private guidance ({leak!r}); write it as your own words")
    return calls, text


def parse_teacher_answer(response: LLMResponse, offered: set[str]) -> tuple[list[FunctionCall], str | None]:
    """Tool calls (or BFCL call text) -> calls; plain text -> the closing message. Unknown names are errors,
    and so is text that opens like JSON or calls but is neither (`BROKEN_ATTEMPT_OPENERS`)."""
    try:
        if response.tool_calls:
            calls = parse_openai_tool_calls(list(response.tool_calls))
        elif response.content and response.content.strip().startswith("[") and response.content.strip().endswith(")]"):
            calls = parse_calls(response.content)
        elif response.content and response.content.strip().startswith(BROKEN_ATTEMPT_OPENERS):
            raise TeacherOutputError(f"the answer is neither calls nor a closing message (it looks like broken JSON or "
                                     f"call text: {response.content.strip()[:80]!r}); make calls as tool calls, "
                                     f"or close the turn in plain words")
        elif response.content and response.content.strip():
            return [], response.content.strip()
        else:
            raise TeacherOutputError("empty answer: neither calls nor text")
    except CallParseError as error:
        raise TeacherOutputError(f"unparseable calls: {error}") from None
    unknown = sorted({call.name for call in calls} - offered)
    if unknown:
        raise TeacherOutputError(f"called functions that are not offered: {unknown}")
    return calls, None


def _append_calls(outcome: TurnOutcome, calls: list[FunctionCall], results: list[CallResult], turn_index: int) -> None:
    """Several calls in one assistant message (parallel), each answered by its own tool message."""
    ids = [f"call_{turn_index}_{len(outcome.results) + i}" for i in range(len(calls))]
    outcome.messages.append(ChatMessage(role="assistant", tool_calls=tuple(ToolCall(id=i, function=c) for i, c in zip(ids, calls))))
    outcome.messages += [ChatMessage(role="tool", tool_call_id=i, content=r.output_text()) for i, r in zip(ids, results)]
    outcome.results += results


def _append_call(outcome: TurnOutcome, call: FunctionCall, result: CallResult, turn_index: int) -> None:
    call_id = f"call_{turn_index}_{len(outcome.results)}"
    outcome.messages.append(ChatMessage(role="assistant", tool_calls=(ToolCall(id=call_id, function=call),)))
    outcome.messages.append(ChatMessage(role="tool", tool_call_id=call_id, content=result.output_text()))
    outcome.results.append(result)


def summary_text(results: list[CallResult], rng: random.Random) -> str:
    """A short plain-text report of what the outputs say (the method's 'summarise outputs')."""
    lines = [rng.choice(SUMMARY_OPENERS)]
    for result in results:
        lines.append(describe_output(result.output))
    return " ".join(line for line in lines if line)


def describe_output(output: Any) -> str:
    if isinstance(output, dict) and output:
        parts = [f"the {humanize(str(key))} is {_plain(value)}" for key, value in list(output.items())[:3]]
        text = "; ".join(part.rstrip(".") for part in parts) + "."
        return text[0].upper() + text[1:]
    if output in (None, {}, [], ""):
        return "The step completed."
    return f"The result is {_plain(output)}."


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value if len(value) <= 120 else value[:117] + "..."
    return short_value(value, 120)


def miss_func_text(spec: FunctionSpec, rng: random.Random) -> str:
    return rng.choice(MISS_FUNC_TEXT).format(ask=as_request(spec))


def refusal_text(rng: random.Random) -> str:
    return rng.choice(REFUSAL_TEXT)


def miss_param_text(spec: FunctionSpec, param: str, rng: random.Random) -> str:
    return rng.choice(MISS_PARAM_TEXT).format(ask=as_request(spec), phrase=param_phrase(spec, param))
