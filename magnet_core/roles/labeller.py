"""Category/class labeller and nested-call checker: what the graph and the plans reason about.

The labeller gives every function a category (from a fixed list) and a tool class; offline it keeps the
pool's own labels and otherwise matches description keywords, so an unlabelled pool still groups.
The nested-call checker says which arguments of a call are fed by an earlier output (the method's
"implicit" calls); it compares values, so it is exact for executed calls and needs no model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.llm.types import LLMResponse
from magnet_core.prompts import load_prompt
from magnet_core.roles.llm_role import build_request, parse_json_object
from magnet_core.roles.values import leaves

ROLE = "category_labeller"
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "file_management": ("file", "directory", "folder", "path"),
    "math": ("number", "calculate", "sum", "mean", "logarithm", "convert a value"),
    "messaging": ("message", "inbox", "contact"),
    "social_media": ("tweet", "post", "follow", "comment"),
    "customer_support": ("ticket", "support"),
    "finance_trading": ("stock", "order", "trade", "watchlist", "balance"),
    "travel": ("flight", "booking", "airport", "travel", "insurance"),
    "vehicle": ("vehicle", "engine", "brake", "tire", "fuel", "door"),
    "weather": ("weather", "temperature", "forecast"),
}
_CLASS_WORD = re.compile(r"^[A-Z][A-Za-z0-9]{1,40}$")


@dataclass(frozen=True)
class Label:
    category: str
    tool_class: str


def label_offline(spec: FunctionSpec) -> Label:
    text = f"{spec.name} {spec.description}".lower()
    scores = {name: sum(text.count(word) for word in words) for name, words in CATEGORY_KEYWORDS.items()}
    best = max(scores, key=lambda name: (scores[name], name))
    category = spec.category or (best if scores[best] > 0 else "other")
    tool_class = spec.tool_class or "".join(part.title() for part in category.split("_")) + "Tools"
    return Label(category, tool_class)


def labeller_request(spec: FunctionSpec, categories: list[str]):
    text = load_prompt(ROLE).render(categories=", ".join(categories),
                                    function=json.dumps(spec.to_openai_tool()["function"], ensure_ascii=False))
    return build_request(ROLE, "pool", [{"role": "user", "content": text}], (), {"temperature": 0.0})


def parse_label(response: LLMResponse, categories: list[str]) -> Label:
    value = parse_json_object(response.content, "category labeller")
    category, tool_class = value.get("category"), value.get("tool_class")
    if category not in (*categories, "other"):
        raise ValueError(f"category labeller: {category!r} is not one of the known categories")
    if not isinstance(tool_class, str) or not _CLASS_WORD.match(tool_class):
        raise ValueError(f"category labeller: tool_class must be one CamelCase word, got {tool_class!r}")
    return Label(category, tool_class)


def nested_arguments(call: FunctionCall, earlier_outputs: list[Any]) -> dict[str, int]:
    """Argument name -> index of the latest earlier output holding its value (trivial values ignored)."""
    found: dict[str, int] = {}
    for name, value in call.arguments.items():
        if isinstance(value, bool) or value in (None, "", 0, 1):
            continue
        for index, output in enumerate(earlier_outputs):
            if any(v == value for _, v in leaves(output)):
                found[name] = index
    return found
