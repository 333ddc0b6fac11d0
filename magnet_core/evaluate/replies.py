"""Turning one assistant reply (OpenAI `tool_calls`, or Qwen `<tool_call>` text) into calls.

Replies are untrusted model output: `tool_calls` go through `parse_openai_tool_calls`, and text is
searched for `<tool_call>{json}</tool_call>` blocks (the format the factory trains Qwen models on,
which a server without a tool parser returns as plain content), each parsed with `parse_calls`.
Anything unreadable is a reply with no calls plus the reason, which ends the turn as BFCL does.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

from magnet_core.domain.calls import FunctionCall
from magnet_core.execution.call_parser import CallParseError, parse_calls, parse_openai_tool_calls

TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)


class AssistantReply(BaseModel):
    """What a model backend returned for one step, with its usage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    content: str | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    latency_s: float = 0.0


def reply_calls(reply: AssistantReply) -> tuple[list[FunctionCall], str | None]:
    """(calls, parse error or None). Plain text with no call markup is (no calls, None)."""
    try:
        if reply.tool_calls:
            return parse_openai_tool_calls(list(reply.tool_calls)), None
        blocks = TOOL_CALL_BLOCK.findall(reply.content or "")
        calls: list[FunctionCall] = []
        for block in blocks:
            calls.extend(parse_calls(block))
        return calls, None
    except CallParseError as error:
        return [], f"unparsable calls: {error}"


def visible_text(content: str | None) -> str | None:
    """Reply text without its call markup, for the history the model sees next."""
    if content is None:
        return None
    text = TOOL_CALL_BLOCK.sub("", content).strip()
    return text or None
