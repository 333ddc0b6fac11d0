"""How a sample shows a function that a miss_func turn withheld and a later user turn makes available.

BFCL has two ways (issue 15): in its *prompting* mode the next user message carries the new function's
docs; in its *function-calling* mode (what `magnet eval` uses) the function is added to the tool list and
the user only says that more functions are available. Translation always writes the prompting form (the
announcement embeds the OpenAI tool JSON, `roles/announcer.py`), and verification reads it back; the
assemble stage renders the stored sample in the configured form (`assemble.miss_func_rendering`):

- `prompting` (default): unchanged; the function stays out of `tools`.
- `function_calling`: the schema leaves the user message, which says in our own words that more functions
  are available, and the function is appended to `tools`. A sample has one `tools` list, so every turn of
  it is rendered with the function listed, the miss_func turn included (BFCL lists it only from the
  announcement on); `metadata.tools_added` says from which message each function is offered, for a
  trainer that renders tools per turn.

Every sample with an announcement records `metadata.miss_func_rendering`; the card and manifest record
the setting and how many samples it changed.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from magnet_core.domain import ChatMessage, PreferencePair, Trajectory
from magnet_core.roles.announcer import announced_tools

MissFuncRendering = Literal["prompting", "function_calling"]

FUNCTION_CALLING_TEXT = (
    "I've made more functions available to you. Can you do what I asked now?",
    "You have some new functions to choose from. Please go ahead with my earlier request.",
    "More functions are available to you now. Could you take care of what I asked before?",
    "I've updated the functions you can use. Can you finish my last request?",
)

DESCRIPTIONS = {
    "prompting": "the withheld function is announced with its schema in the next user message and kept out of `tools` (BFCL prompting mode)",
    "function_calling": "the withheld function is appended to `tools` and the next user message only says more functions are available "
                        "(BFCL function-calling mode; one `tools` list per sample, so it is listed in every turn, "
                        "`metadata.tools_added` says from which message on it is offered)",
}


def render_trajectory(sample: Trajectory, rendering: MissFuncRendering) -> Trajectory:
    messages, tools, added = _render(sample.messages, sample.tools, sample.trajectory_id, rendering)
    if not added:
        return sample
    return sample.model_copy(update={"messages": messages, "tools": tools, "metadata": _metadata(sample.metadata, rendering, added)})


def render_pair(pair: PreferencePair, rendering: MissFuncRendering) -> PreferencePair:
    """The prompt is rendered like a trajectory; chosen and rejected continuations may announce too."""
    prompt, tools, added = _render(pair.prompt, pair.tools, pair.pair_id, rendering)
    chosen, tools, added_chosen = _render(pair.chosen, tools, pair.pair_id, rendering, offset=len(prompt))
    rejected, tools, added_rejected = _render(pair.rejected, tools, pair.pair_id, rendering, offset=len(prompt))
    added += [{**item, "part": "chosen"} for item in added_chosen] + [{**item, "part": "rejected"} for item in added_rejected]
    if not added:
        return pair
    return pair.model_copy(update={"prompt": prompt, "chosen": chosen, "rejected": rejected, "tools": tools,
                                   "metadata": _metadata(pair.metadata, rendering, added)})


def _render(messages: tuple[ChatMessage, ...], tools: tuple[dict[str, Any], ...], key: str, rendering: MissFuncRendering,
            offset: int = 0) -> tuple[tuple[ChatMessage, ...], tuple[dict[str, Any], ...], list[dict[str, Any]]]:
    rendered: list[ChatMessage] = []
    listed = {_name(tool) for tool in tools}
    tools_out = list(tools)
    added: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        found = announced_tools(message.content) if message.role == "user" else []
        if not found:
            rendered.append(message)
            continue
        added.append({"message_index": offset + index, "functions": [_name(tool) for _, _, tool in found]})
        if rendering == "function_calling":
            for _, _, tool in found:
                if _name(tool) not in listed:
                    tools_out.append(tool)
                    listed.add(_name(tool))
            message = message.model_copy(update={"content": _function_calling_text(key, offset + index)})
        rendered.append(message)
    return tuple(rendered), tuple(tools_out), added


def _function_calling_text(key: str, index: int) -> str:
    digest = hashlib.sha256(f"{key}:{index}".encode()).digest()
    return FUNCTION_CALLING_TEXT[digest[0] % len(FUNCTION_CALLING_TEXT)]


def _name(tool: dict[str, Any]) -> str:
    function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
    return str(function.get("name"))


def _metadata(metadata: dict[str, Any], rendering: MissFuncRendering, added: list[dict[str, Any]]) -> dict[str, Any]:
    return {**metadata, "miss_func_rendering": rendering, "tools_added": added}
