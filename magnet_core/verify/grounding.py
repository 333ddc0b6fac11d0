"""Is every argument value of a turn grounded in what the user could know?

A value is grounded when the user's words carry it (this turn's query or an earlier one), when the
scenario's starting state holds it (what a user of that account/file system would know), or when an
earlier output produced it (earlier turns, or earlier calls of the same turn: the nested calls). A call
writer that guesses ("No such file", "User already exists") fails here with the value named, instead of
producing data whose queries never mention the values the calls use.

Not checked: booleans and null (a yes/no is phrased, not quoted), a parameter's schema default, enum
members (chosen by meaning, "sort ascending"), and numbers 0/1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.roles.values import leaves


def _scalars(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*map(str, value), *[s for v in value.values() for s in _scalars(v)]]
    if isinstance(value, list):
        return [s for item in value for s in _scalars(item)]
    return [value]


def known_values(sources: Iterable[Any]) -> set[str]:
    """Every scalar of the given JSON values (mapping keys included), normalised to text."""
    found: set[str] = set()
    for source in sources:
        for scalar in [s for _, leaf in leaves(source) for s in _scalars(leaf)] + _scalars(source):
            found.add(_norm(scalar))
            scalar = _as_number(scalar)
            if isinstance(scalar, float):  # a value read off an output may be rounded
                found.update(_norm(round(scalar, digits)) for digits in range(1, 9))
    return found


def _as_number(value: Any) -> Any:
    """A numeric string ("3.162277660") as its float, so a value read off it as a number still matches."""
    if isinstance(value, str) and len(value) < 40:
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _norm(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def _in_text(value: Any, text: str) -> bool:
    norm = _norm(value)
    if isinstance(value, (int, float)):
        return re.search(rf"(?<![\d.]){re.escape(norm)}(?![\d])", text) is not None
    return norm in text


def ungrounded_values(calls: list[FunctionCall], schemas: dict[str, dict[str, Any]], texts: list[str],
                      known: set[str]) -> list[str]:
    """`name.param=value` for each argument scalar found in none of `texts` (user messages) and `known`."""
    text = "\n".join(texts).lower()
    missing: list[str] = []
    for call in calls:
        properties = (schemas.get(call.name) or {}).get("properties", {})
        for param, value in call.arguments.items():
            schema = properties.get(param, {})
            if value == schema.get("default") and "default" in schema:
                continue
            allowed = schema.get("enum") or (schema.get("items") or {}).get("enum") or ()
            for scalar in _scalars(value):
                if isinstance(scalar, bool) or scalar is None or scalar in allowed or scalar in (0, 1, ""):
                    continue
                if _norm(scalar) in known or _in_text(scalar, text):
                    continue
                if isinstance(scalar, float) and any(_norm(round(scalar, d)) in known for d in range(1, 9)):
                    continue
                missing.append(f"{call.name}.{param}={scalar!r}")
    return missing


def require_grounded(calls: list[FunctionCall], schemas: dict[str, dict[str, Any]], texts: list[str], known: set[str],
                     what: str) -> None:
    """ValueError (a writer's answer to re-ask) naming the ungrounded values, never the function or parameter
    identifiers: a query writer must not write those, so the feedback does not show them."""
    missing = ungrounded_values(calls, schemas, texts, known)
    if missing:
        values = list(dict.fromkeys(item.split("=", 1)[1] for item in missing))
        raise ValueError(f"{what} the values {', '.join(values[:8])}")
