"""Natural-language fragments the offline roles build from function and parameter descriptions.

The offline roles have no model, so their text is templated. Templates are only as good as the words they
start from: these helpers strip tool-class boilerplate from descriptions, turn identifiers into words, and
render values the way a person would type them, so user queries never show a function identifier.
"""

from __future__ import annotations

import json
import re
from typing import Any

from magnet_core.domain.functions import FunctionSpec

_TOOL_DESCRIPTION = re.compile(r"Tool description:\s*", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_IDENTIFIER_LIKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b|\b[a-z]+[A-Z][A-Za-z0-9]*\b")


def core_description(spec: FunctionSpec) -> str:
    """The function-specific part of a description, as one sentence without a trailing period."""
    text = spec.description or ""
    parts = _TOOL_DESCRIPTION.split(text)
    text = parts[-1] if len(parts) > 1 else text
    text = text.strip().split("\n")[0]
    sentence = re.split(r"(?<=[.!?])\s", text)[0].strip().rstrip(".!? ")
    if not sentence:
        sentence = f"take care of the {humanize(spec.name)} step"
    return scrub_identifiers(sentence)


def as_request(spec: FunctionSpec) -> str:
    """`Retrieve a specific tweet` -> `retrieve a specific tweet` (lower-cased imperative)."""
    sentence = core_description(spec)
    words = sentence.split(" ", 1)
    head = words[0]
    if head[:1].isupper() and not head[1:2].isupper():
        head = head[0].lower() + head[1:]
    # Third-person descriptions ("Checks the tire pressure") read better as imperatives.
    if head.endswith("es") and head[:-2].endswith(("sh", "ch", "ss", "x")):
        head = head[:-2]
    elif head.endswith("s") and not head.endswith(("ss", "us", "is")) and len(head) > 3:
        head = head[:-1]
    return " ".join([head] + words[1:])


def humanize(identifier: str) -> str:
    """`file_name` / `fuelAmount` / `MA(5)` -> `file name` / `fuel amount` / `MA(5)`."""
    spaced = _CAMEL.sub(" ", identifier).replace("_", " ").strip()
    return re.sub(r"\s+", " ", spaced).lower() if not identifier.isupper() else identifier


def param_phrase(spec: FunctionSpec, param: str) -> str:
    """A short noun phrase for a parameter, from its description when that is short enough."""
    schema = spec.param_properties.get(param, {})
    description = str(schema.get("description", "")).strip()
    first = re.split(r"(?<=[.!?])\s|\[Enum\]|\(e\.g|Options|Here are", description)[0].strip().rstrip(".:; ")
    first = re.sub(r"^(the|a|an)\s+", "", first, flags=re.IGNORECASE)
    if 2 <= len(first.split()) <= 9:
        if not first[1:2].isupper():
            first = first[0].lower() + first[1:]
        return scrub_identifiers(first)
    return humanize(param)


def scrub_identifiers(text: str) -> str:
    """Replace snake_case / camelCase tokens with plain words so queries never leak identifiers."""
    return _IDENTIFIER_LIKE.sub(lambda m: humanize(m.group(0)), text)


def identifier_tokens(text: str) -> set[str]:
    return set(_IDENTIFIER_LIKE.findall(text))


def render_value(value: Any) -> str:
    """How a user would write a value: quoted strings, plain numbers, comma lists."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        items = [render_value(item) for item in value]
        if len(items) <= 1:
            return items[0] if items else "none"
        return ", ".join(items[:-1]) + " and " + items[-1]
    if isinstance(value, dict):
        return ", ".join(f"{humanize(str(k))} {render_value(v)}" for k, v in value.items()) or "nothing"
    return json.dumps(value, ensure_ascii=False)


def short_value(value: Any, limit: int = 160) -> str:
    """A compact rendering of a tool output value for summaries."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = render_value(value)
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
