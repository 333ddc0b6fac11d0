"""Executed turns, scenarios, chat trajectories and preference pairs.

Trajectories are OpenAI chat messages (system / user / assistant with `tool_calls` / tool), the format
TRL's trainers and every chat template read. Tool-call arguments stay typed dicts in memory; they become
JSON text only at the storage boundary so Arrow never merges or null-fills them.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.plans import Plan, TurnLabel


class CallErrorKind(str, Enum):
    UNKNOWN_FUNCTION = "unknown_function"
    INVALID_ARGUMENTS = "invalid_arguments"
    BACKEND_ERROR = "backend_error"
    EXCEPTION = "exception"
    TIMEOUT = "timeout"
    SESSION_POISONED = "session_poisoned"


class CallResult(BaseModel):
    """The outcome of executing one call: never an exception, always a record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    call: FunctionCall
    ok: bool
    output: Any = None
    error: str | None = None
    error_kind: CallErrorKind | None = None
    simulated: bool = False
    duration_s: float = 0.0

    @model_validator(mode="after")
    def _check(self) -> "CallResult":
        if self.ok != (self.error is None):
            raise ValueError("ok results carry no error; failed results carry one")
        return self

    def output_text(self) -> str:
        """What the model sees as the tool message content."""
        if not self.ok:
            return json.dumps({"error": self.error}, ensure_ascii=False)
        return json.dumps(self.output, ensure_ascii=False, default=str)


class ToolCall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    function: FunctionCall

    def to_openai(self) -> dict[str, Any]:
        return self.function.to_openai_tool_call(self.id)

    def to_template(self) -> dict[str, Any]:
        """Chat templates (Qwen2.5's included) want `arguments` as a mapping, not JSON text."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.function.name, "arguments": dict(self.function.arguments)},
        }


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _check(self) -> "ChatMessage":
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only assistant messages carry tool_calls")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("tool messages answer a tool_call_id")
        if self.role != "assistant" and self.content is None:
            raise ValueError(f"{self.role} messages need content")
        if self.role == "assistant" and self.content is None and not self.tool_calls:
            raise ValueError("an assistant message has content or tool_calls")
        return self

    def to_openai(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [call.to_openai() for call in self.tool_calls]
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            message["name"] = self.name
        return message

    def to_template(self) -> dict[str, Any]:
        """The dict a chat template renders: no keys that would print as null."""
        message: dict[str, Any] = {"role": self.role, "content": self.content or ""}
        if self.tool_calls:
            message["tool_calls"] = [call.to_template() for call in self.tool_calls]
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            message["name"] = self.name
        return message

    @classmethod
    def from_openai(cls, message: dict[str, Any]) -> "ChatMessage":
        tool_calls = tuple(
            ToolCall(id=raw.get("id") or f"call_{index}", function=FunctionCall.from_openai_tool_call(raw))
            for index, raw in enumerate(message.get("tool_calls") or ())
        )
        return cls(
            role=message["role"],
            content=message.get("content"),
            tool_calls=tool_calls,
            tool_call_id=message.get("tool_call_id"),
            name=message.get("name"),
        )


class Turn(BaseModel):
    """One translated turn: the user's query, the reference calls, and what executing them returned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    label: TurnLabel = TurnLabel.NORMAL
    query: str
    reference_calls: tuple[FunctionCall, ...] = ()
    results: tuple[CallResult, ...] = ()
    offered_functions: tuple[str, ...] = ()
    withheld_function: str | None = None
    withheld_param: str | None = None
    announced_functions: tuple[str, ...] = Field(
        default=(), description="Qualified names whose schemas this turn's user message announces (BFCL's prompting "
        "mode for miss_func): the function a previous miss_func turn withheld becomes available here and stays "
        "offered from this turn on, while the stored `tools` list never contains it.")


class Scenario(BaseModel):
    """A plan bound to the environment it runs in. `initial_state` maps tool class -> backend config."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario_id: str
    plan: Plan
    pool: str
    initial_state: dict[str, Any] = Field(default_factory=dict)
    seed: int


class Trajectory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    trajectory_id: str
    messages: tuple[ChatMessage, ...] = Field(min_length=1)
    tools: tuple[dict[str, Any], ...] = ()
    scenario_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def assistant_calls(self) -> list[FunctionCall]:
        return [call.function for m in self.messages if m.role == "assistant" for call in m.tool_calls]

    def to_openai_messages(self) -> list[dict[str, Any]]:
        return [message.to_openai() for message in self.messages]

    def to_template_messages(self) -> list[dict[str, Any]]:
        return [message.to_template() for message in self.messages]


class PreferencePair(BaseModel):
    """A chosen and a rejected continuation of the same prompt, with the turn where they part and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pair_id: str
    prompt: tuple[ChatMessage, ...] = Field(min_length=1)
    chosen: tuple[ChatMessage, ...] = Field(min_length=1)
    rejected: tuple[ChatMessage, ...] = Field(min_length=1)
    tools: tuple[dict[str, Any], ...] = ()
    differing_turn: int = Field(ge=0)
    error_type: str
    reason: str
    scenario_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Reject(BaseModel):
    """An item a stage refused, kept with its reason so nothing disappears silently."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    item_id: str
    reason: str
    detail: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
