"""Function specs: what the model is shown, and what the graph and the executor reason about."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FunctionSpec(BaseModel):
    """One callable function of a pool.

    `parameters` and `response` are standard JSON Schema (objects); pools normalise their dialects
    (BFCL's "dict"/"float") on load so that nothing downstream sees them. `tool_class` groups functions
    that share one stateful backend (BFCL's `GorillaFileSystem`, a Python class); the qualified name
    `tool_class.name` is unique within a pool even where bare names are not.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    response: dict[str, Any] | None = None
    category: str | None = None
    tool_class: str | None = None
    source_pool: str
    executable: bool = True

    @property
    def qualified_name(self) -> str:
        return f"{self.tool_class}.{self.name}" if self.tool_class else self.name

    @property
    def required_params(self) -> list[str]:
        return list(self.parameters.get("required", []))

    @property
    def param_properties(self) -> dict[str, dict[str, Any]]:
        return dict(self.parameters.get("properties", {}))

    @property
    def response_properties(self) -> dict[str, dict[str, Any]]:
        if not self.response:
            return {}
        return dict(self.response.get("properties", {}))

    def to_openai_tool(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }
