"""One BFCL multi-turn conversation between a model and the real backends, as BFCL runs it.

Mirrors BFCL's FC inference loop: the user turns come one by one; within a turn the model is asked
again after every step that made calls (the calls are executed and their outputs appended as tool
messages) until it answers without calls; an unreadable reply also ends the turn. A turn listed in
`missed_function` first adds the withheld functions to the tool list and carries BFCL's fixed user
message. Tool messages carry BFCL's result strings. More than `max_steps` calling steps in one turn force-quits the conversation, which fails the
case. Calls run on this episode's own instances through `CaseEnvironment` (never `eval`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from bfcl_eval.constants.default_prompts import DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC
from pydantic import BaseModel, ConfigDict

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import ChatMessage, ToolCall
from magnet_core.evaluate.bfcl_data import EvalCase
from magnet_core.evaluate.environment import CaseEnvironment, bfcl_result_text, offered_specs
from magnet_core.evaluate.replies import AssistantReply, TextCallFormat, reply_calls, visible_text


class ModelBackend(Protocol):
    """Anything that answers a chat (messages + OpenAI tools) with one assistant reply."""

    label: str

    async def reply(self, messages: list[ChatMessage], tools: list[dict[str, Any]]) -> AssistantReply: ...


class StepLog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    content: str | None = None
    calls: tuple[FunctionCall, ...] = ()
    outputs: tuple[str, ...] = ()
    parse_error: str | None = None


class TurnLog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    steps: tuple[StepLog, ...]
    end: str  # "answered" | "parse_error" | "step_limit"


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    requests: int = 0
    cached_requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, reply: AssistantReply) -> "Usage":
        return Usage(
            requests=self.requests + 1,
            cached_requests=self.cached_requests + int(reply.cached),
            prompt_tokens=self.prompt_tokens + reply.prompt_tokens,
            completion_tokens=self.completion_tokens + reply.completion_tokens,
            cost_usd=self.cost_usd + reply.cost_usd,
        )


class Episode(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    turns: tuple[TurnLog, ...]
    force_terminated: bool
    usage: Usage

    def model_calls(self) -> list[list[list[FunctionCall]]]:
        """Per turn, the calls of each step that made calls: what BFCL's checker receives."""
        return [[list(step.calls) for step in turn.steps if step.calls] for turn in self.turns]


async def run_episode(
    case: EvalCase,
    backend: ModelBackend,
    specs: list[FunctionSpec],
    system_prompt: str | None,
    max_steps: int,
    text_format: TextCallFormat = "qwen",
) -> Episode:
    messages: list[ChatMessage] = [ChatMessage(role="system", content=system_prompt)] if system_prompt else []
    turns: list[TurnLog] = []
    usage = Usage()
    force_terminated = False
    with CaseEnvironment(case, specs) as env:
        for turn_index, turn_messages in enumerate(case.turns):
            tools = [spec.to_openai_tool() for spec in offered_specs(case, specs, turn_index)]
            if turn_index in case.missed_function:
                turn_messages = ({"role": "user", "content": DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC},)
            messages.extend(ChatMessage.from_openai(dict(message)) for message in turn_messages)
            steps: list[StepLog] = []
            end = "answered"
            while True:
                reply = await backend.reply(list(messages), tools)
                usage = usage.add(reply)
                calls, parse_error = reply_calls(reply, text_format)
                if not calls:
                    messages.append(ChatMessage(role="assistant", content=reply.content or ""))
                    steps.append(StepLog(content=reply.content, parse_error=parse_error))
                    end = "parse_error" if parse_error else "answered"
                    break
                step_index = len(steps)
                tool_calls = tuple(ToolCall(id=f"call_{turn_index}_{step_index}_{i}", function=call) for i, call in enumerate(calls))
                # BFCL's Qwen handler keeps only the calls of a text reply that made calls in the history.
                said = None if text_format == "qwen" and not reply.tool_calls else visible_text(reply.content)
                messages.append(ChatMessage(role="assistant", content=said, tool_calls=tool_calls))
                results = await asyncio.to_thread(env.execute, calls)
                outputs = tuple(bfcl_result_text(result) for result in results)
                messages.extend(ChatMessage(role="tool", content=text, tool_call_id=tc.id) for tc, text in zip(tool_calls, outputs))
                steps.append(StepLog(content=visible_text(reply.content), calls=tuple(calls), outputs=outputs))
                if len(steps) > max_steps:
                    force_terminated = True
                    end = "step_limit"
                    break
            turns.append(TurnLog(index=turn_index, steps=tuple(steps), end=end))
            if force_terminated:
                break
    return Episode(turns=tuple(turns), force_terminated=force_terminated, usage=usage)
