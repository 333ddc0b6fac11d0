"""Turning one assistant reply (OpenAI `tool_calls`, or Qwen `<tool_call>` text) into calls.

Replies are untrusted model output. By default `tool_calls` are read as BFCL's OpenAI FC handler
reads them (`convert_to_function_call`: JSON `arguments` that must load to an object, any name; one
bad call makes the step unreadable); `text_format="lenient"` uses `parse_openai_tool_calls`. Text (the
format the factory trains Qwen models on, which a server without a tool parser returns as plain
content) is read by default exactly as BFCL's Qwen FC handler reads it (`QwenFCHandler.decode_execute`):
only blocks written `<tool_call>\n{json}\n</tool_call>` count, a block whose JSON does not load is
skipped while the reply's other blocks still count, and a block that loads to something other than
an object with `name` and `arguments` makes the whole reply unreadable. `text_format="lenient"` keeps
the older reading (no newlines needed, an unterminated last block read, one bad block drops all).
Anything unreadable is a reply with no calls plus the reason, which ends the turn as BFCL does.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from magnet_core.domain.calls import FunctionCall
from magnet_core.execution.call_parser import CallParseError, ParseErrorKind, parse_calls, parse_openai_tool_calls

TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
QWEN_TOOL_CALL_BLOCK = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.DOTALL)  # QwenFCHandler._extract_tool_calls
TextCallFormat = Literal["qwen", "lenient"]


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


def reply_calls(reply: AssistantReply, text_format: TextCallFormat = "qwen") -> tuple[list[FunctionCall], str | None]:
    """(calls, parse error or None). Plain text with no call markup is (no calls, None)."""
    try:
        if reply.tool_calls:
            if text_format == "qwen":
                return [_fc_call(item) for item in reply.tool_calls], None
            return parse_openai_tool_calls(list(reply.tool_calls)), None
        if text_format == "qwen":
            calls, skipped = qwen_text_calls(reply.content or "")
            return calls, (f"unparsable calls: {skipped} <tool_call> block(s) are not JSON" if skipped and not calls else None)
        calls: list[FunctionCall] = []
        for block in TOOL_CALL_BLOCK.findall(reply.content or ""):
            calls.extend(parse_calls(block))
        return calls, None
    except CallParseError as error:
        return [], f"unparsable calls: {error}"


def qwen_text_calls(text: str) -> tuple[list[FunctionCall], int]:
    """(calls, blocks skipped): what BFCL's Qwen FC handler decodes from a reply's text, evaluating nothing."""
    items, skipped = [], 0
    for block in QWEN_TOOL_CALL_BLOCK.findall(text):
        try:
            items.append(json.loads(block))
        except (ValueError, RecursionError):
            skipped += 1  # BFCL skips a block it cannot load and keeps the others
    if any(type(item) is not dict for item in items):
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, "a <tool_call> block is not a JSON object")
    return [_qwen_call(item) for item in items], skipped


def _fc_call(item: Any) -> FunctionCall:
    function = item.get("function", item) if isinstance(item, dict) else None
    if not isinstance(function, dict) or "name" not in function:
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, "a tool call has no function name")
    return _qwen_call({"name": function["name"], "arguments": function.get("arguments", "")})


def _qwen_call(item: dict[str, Any]) -> FunctionCall:
    if "name" not in item or "arguments" not in item:
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, "a <tool_call> object lacks `name` or `arguments`")
    name, arguments = item["name"], item["arguments"]
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except (ValueError, RecursionError):
            raise CallParseError(ParseErrorKind.BAD_JSON_CALL, "`arguments` is text that is not JSON") from None
    if not isinstance(name, str) or not name or not isinstance(arguments, dict):
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, "a <tool_call> needs a name and an arguments object")
    return FunctionCall(name=name, arguments=arguments)


def visible_text(content: str | None) -> str | None:
    """Reply text without its call markup, for the history the model sees next."""
    if content is None:
        return None
    text = TOOL_CALL_BLOCK.sub("", content).strip()
    return text or None
