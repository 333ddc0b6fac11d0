"""Function calls and their two wire formats (BFCL text, OpenAI `tool_calls`).

Parsing text into calls is untrusted-input handling and lives in `magnet_core.execution.call_parser`;
this module only renders calls we already hold as typed values.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FunctionCall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)

    def to_bfcl(self) -> str:
        args = ", ".join(f"{key}={_python_literal(value)}" for key, value in self.arguments.items())
        return f"{self.name}({args})"

    def to_openai_tool_call(self, call_id: str) -> dict[str, Any]:
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments, ensure_ascii=False)},
        }

    @classmethod
    def from_openai_tool_call(cls, tool_call: dict[str, Any]) -> "FunctionCall":
        """Accepts the OpenAI shape whose `arguments` is JSON text or an already-decoded object."""
        function = tool_call.get("function", tool_call)
        raw = function.get("arguments", {})
        arguments = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(arguments, dict):
            raise ValueError(f"tool call arguments must be a JSON object, got {type(arguments).__name__}")
        return cls(name=function["name"], arguments=arguments)


def calls_to_bfcl(calls: list[FunctionCall]) -> str:
    return "[" + ", ".join(call.to_bfcl() for call in calls) + "]"


def calls_to_openai_tool_calls(calls: list[FunctionCall], id_prefix: str = "call") -> list[dict[str, Any]]:
    return [call.to_openai_tool_call(f"{id_prefix}_{index}") for index, call in enumerate(calls)]


def _python_literal(value: Any) -> str:
    """Render a JSON-compatible value as Python literal text that `ast.literal_eval` reads back."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"non-finite float {value!r} has no literal form")
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_python_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_python_literal(str(k))}: {_python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"cannot render {type(value).__name__} as a call argument")
