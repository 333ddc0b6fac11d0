"""Turn litellm's response object into the plain fields of the contract, or fail clearly.

A server can answer 200 with something that is not a chat completion (no choices, wrong types); that
is reported as `BadAnswerError`, which the retry policy treats as transient, like a 5xx.
"""

from __future__ import annotations

from typing import Any


class BadAnswerError(ValueError):
    """The server answered 200 with something that is not a chat completion."""


def read_answer(raw: Any) -> dict[str, Any]:
    try:
        choice = raw.choices[0]
        message = choice.message
        tool_calls = tuple(_plain(call) for call in (getattr(message, "tool_calls", None) or ()))
        usage = getattr(raw, "usage", None)
        content = getattr(message, "content", None)
        if content is not None and not isinstance(content, str):
            raise TypeError(f"content is {type(content).__name__}")
        return {"content": content, "tool_calls": tool_calls, "finish_reason": getattr(choice, "finish_reason", None),
                "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
                "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0)}
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
        raise BadAnswerError(f"unreadable chat completion: {type(error).__name__}: {error}") from None


def _plain(tool_call: Any) -> dict[str, Any]:
    """litellm returns pydantic objects; the contract is plain OpenAI dicts (arguments as JSON text)."""
    if isinstance(tool_call, dict):
        return tool_call
    data = tool_call.model_dump() if hasattr(tool_call, "model_dump") else dict(tool_call)
    function = data.get("function") or {}
    return {"id": data.get("id"), "type": data.get("type") or "function",
            "function": {"name": function.get("name"), "arguments": function.get("arguments")}}
