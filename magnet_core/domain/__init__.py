"""The one canonical representation of every object that crosses a stage boundary."""

from magnet_core.domain.calls import FunctionCall, calls_to_bfcl, calls_to_openai_tool_calls
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.plans import (
    FunctionSignaturePath,
    NodeOperation,
    NodeOperationKind,
    Plan,
    PlanTurn,
    TurnLabel,
)
from magnet_core.domain.trajectory import (
    CallResult,
    ChatMessage,
    PreferencePair,
    Reject,
    Scenario,
    ToolCall,
    Trajectory,
    Turn,
)

__all__ = [
    "CallResult",
    "ChatMessage",
    "FunctionCall",
    "FunctionSignaturePath",
    "FunctionSpec",
    "NodeOperation",
    "NodeOperationKind",
    "Plan",
    "PlanTurn",
    "PreferencePair",
    "Reject",
    "Scenario",
    "ToolCall",
    "Trajectory",
    "Turn",
    "TurnLabel",
    "calls_to_bfcl",
    "calls_to_openai_tool_calls",
]
