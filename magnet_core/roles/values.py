"""Candidate argument values for the offline call writer, ranked by where they come from.

Without a model, good values have to come from the environment: outputs of earlier calls (nested and
long-range dependencies), values present in the backend's state (existing files, stock symbols, user
ids, read through the class's own read-only functions on a scratch copy), value lists written in the
parameter descriptions, and finally schema-typed values. Ranks keep the most plausible first; a seeded
shuffle inside each rank gives variety across scenarios.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field
from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.roles.vocabulary import INTEGERS, NUMBERS, STRINGS, VOCABULARY

# Rank of each source: lower is tried first.
FROM_PREMISE = -1  # a value that sets up a premise a later call of the plan needs (from the docs, see premise_rules)
FROM_OUTPUT = 0
FROM_ARGUMENT = 1
FROM_DESCRIPTION = 2
FROM_STATE_KEY = 3
FROM_STATE_ANY = 4
FROM_VOCABULARY = 5

_SPLIT = re.compile(r"[_\W]+|(?<=[a-z0-9])(?=[A-Z])")
_ENUM = re.compile(r"\[Enum\]:\s*\[?([^\]\n]+)\]?", re.IGNORECASE)
_OPTIONS = re.compile(r"(?:options are|here are the options|possible values(?: are)?)\s*:?\s*([^.\n]+)", re.IGNORECASE)
_EXAMPLE = re.compile(r"e\.g\.,?\s*'([^']+)'")
_QUOTED_CODE = re.compile(r"'([^'\s]{1,12})'\s+for")
_RANGE = re.compile(r"from\s+(-?\d+)\s+to\s+(-?\d+)", re.IGNORECASE)
_GENERIC_TOKENS = {"the", "of", "to", "a", "name", "value", "list", "new"}



SYNONYMS: dict[str, set[str]] = {
    "username": {"user"}, "receiver": {"user"}, "sender": {"user"}, "contact": {"user"},
    "symbol": {"stock", "symbols"}, "stock": {"symbol", "symbols"}, "stocks": {"symbol", "symbols", "stock"},
    "folder": {"dir", "directory"}, "dir": {"folder", "directory"}, "source": {"file", "directory", "content"},
    "destination": {"directory", "dir"}, "location": {"city"}, "city": {"location"},
}


@functools.lru_cache(maxsize=65_536)
def tokens(name: str) -> frozenset[str]:
    """Cached: candidate scoring asks for the same few hundred state keys hundreds of thousands of times."""
    found = {t.lower() for t in _SPLIT.split(name) if t and t.lower() not in _GENERIC_TOKENS} or {name.lower()}
    found |= {t[:-1] for t in found if t.endswith("s") and len(t) > 3}
    for token in list(found):
        found |= SYNONYMS.get(token, set())
    return frozenset(found)


@dataclass(frozen=True)
class Candidate:
    value: Any
    rank: int
    source: str


@dataclass
class ValueContext:
    """What the writer knows when it fills a call: earlier outputs and arguments, and harvested state."""

    outputs: list[tuple[str, Any]] = field(default_factory=list)  # (key, value) leaves of earlier outputs, oldest first
    arguments: list[tuple[str, Any]] = field(default_factory=list)  # (param, value) of earlier calls
    state: list[tuple[str, Any]] = field(default_factory=list)  # (key, value) leaves of the backend state
    premises: dict[str, dict[str, Any]] = field(default_factory=dict)  # function -> {param: value setting up a later premise}

    def add_output(self, output: Any) -> None:
        self.outputs.extend(leaves(output))

    def add_arguments(self, arguments: dict[str, Any]) -> None:
        self.arguments.extend(arguments.items())


def leaves(value: Any, key: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Flatten nested JSON into (nearest key, scalar or scalar-list) pairs; mapping keys count as values."""
    found: list[tuple[str, Any]] = []
    if depth > 6:
        return found
    if isinstance(value, dict):
        for sub_key, sub_value in value.items():
            sub_key = str(sub_key)
            if not sub_key.startswith("_"):
                if key:  # top-level keys of an output are field names, not values
                    found.append((key, sub_key))
                found.extend(leaves(sub_value, sub_key, depth + 1))
                if key and isinstance(sub_value, (str, int, float)) and not isinstance(sub_value, bool):
                    found.append((key, sub_value))  # {"user_map": {"Alice": "USR001"}}: the id is a user_map value
    elif isinstance(value, list):
        if value and all(isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in value):
            found.append((key, list(value)))
        for item in value[:20]:
            found.extend(leaves(item, key, depth + 1))
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        if not (isinstance(value, str) and (len(value) > 80 or not value.strip())):
            found.append((key, value))
    return found


def description_values(schema: dict[str, Any]) -> list[Any]:
    """Values a schema or its description spells out: enum, default, `[Enum]: a, b`, `Options are: ...`."""
    values: list[Any] = list(schema.get("enum") or [])
    description = str(schema.get("description", ""))
    for pattern in (_ENUM, _OPTIONS):
        for match in pattern.finditer(description):
            for item in match.group(1).split(","):
                item = item.strip().strip("\"' ").rstrip(".")
                if item and len(item) < 40:
                    values.append(item)
    values += _EXAMPLE.findall(description) + _QUOTED_CODE.findall(description)
    if schema.get("type") == "integer":
        for low, high in _RANGE.findall(description):
            values += list(range(int(low), int(high) + 1))
    default = schema.get("default")
    if default not in (None, "", [], {}):
        values.append(default)
    return values


def candidates(spec: FunctionSpec, param: str, context: ValueContext, rng: random.Random, limit: int = 32) -> list[Candidate]:
    schema = spec.param_properties.get(param, {})
    kind = schema_type(schema)
    wanted = tokens(param)
    described = description_tokens(schema) | wanted
    precise = bool(wanted & {"precision", "decimal", "places", "digits"})
    ranked: list[Candidate] = []

    def add(pairs: list[tuple[float, Any]], rank: int, source: str, shuffle: bool, loose: bool = True) -> None:
        fitting = [(score, coerce(value, schema)) for score, value in pairs
                   if loose or not (kind == "string" and not isinstance(value, str))]
        fitting = [(score, value) for score, value in fitting if value is not None and _sane_size(value, rank, precise)]
        if shuffle:
            rng.shuffle(fitting)
        fitting.sort(key=lambda pair: -pair[0])  # stable: ties keep the seeded order
        ranked.extend(Candidate(value, rank, source) for _, value in fitting)

    premise = context.premises.get(spec.qualified_name, {})
    if param in premise:
        add([(0, premise[param])], FROM_PREMISE, "description", False)
    close = [(k, v) for k, v in reversed(context.outputs) if _match(k, param, wanted) >= 0.5]
    add([(0, v) for _, v in close], FROM_OUTPUT, "output", False)
    add([(_match(k, param, wanted), v) for k, v in reversed(context.outputs) if 0 < _match(k, param, wanted) < 0.5],
        FROM_STATE_KEY, "output", False, loose=False)
    add([(0, v) for k, v in reversed(context.arguments) if k == param], FROM_ARGUMENT, "argument", False)
    add([(0, v) for v in description_values(schema)], FROM_DESCRIPTION, "description", True)
    add([(_match(k, param, wanted), v) for k, v in context.state if tokens(k) & wanted], FROM_STATE_KEY, "state", True)
    add([(1, v) for k, v in context.outputs + context.state if not tokens(k) & wanted and tokens(k) & described],
        FROM_STATE_KEY, "state", True, loose=False)
    # Earlier outputs before other state, most recent first: a value the conversation produced is the
    # likelier intent, and the query then refers to it instead of repeating it.
    add([(0, v) for k, v in reversed(context.outputs) if not tokens(k) & described], FROM_STATE_ANY, "output", False,
        loose=False)
    add([(0, v) for k, v in context.state if not tokens(k) & described], FROM_STATE_ANY, "state", True, loose=False)
    add([(0, v) for v in vocabulary(param, kind, schema, rng)], FROM_VOCABULARY, "vocabulary", True)
    unique: list[Candidate] = []
    seen: set[str] = set()
    for candidate in ranked:
        marker = repr(candidate.value)
        if marker not in seen:
            seen.add(marker)
            unique.append(candidate)
    # Keep a few from every rank so a bad top rank cannot crowd out the rest.
    by_rank: dict[int, list[Candidate]] = {}
    for candidate in unique:
        by_rank.setdefault(candidate.rank, []).append(candidate)
    share = max(6, limit // max(1, len(by_rank)))
    return [c for rank in sorted(by_rank) for c in by_rank[rank][:share]]


def _sane_size(value: Any, rank: int, precise: bool) -> bool:
    """Numbers borrowed from unrelated keys stay small: a precision of 12446 digits can stall a backend
    for minutes (and a stalled call cannot be stopped, only abandoned)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    if precise:
        return 0 <= value <= 20
    return rank < FROM_STATE_ANY or abs(value) <= 10_000


def description_tokens(schema: dict[str, Any]) -> set[str]:
    words = re.findall(r"[A-Za-z]{3,}", str(schema.get("description", "")))
    stop = {"the", "and", "for", "from", "with", "this", "that", "are", "name", "list", "new", "value", "only", "allowed",
            "path", "can", "you", "one", "any", "should", "will", "not", "must", "defaults", "default", "none"}
    found = {w.lower() for w in words if w.lower() not in stop}
    return found | {w[:-1] for w in found if w.endswith("s")}


def _match(key: str, param: str, wanted: frozenset[str]) -> float:
    if key == param:
        return 10.0
    have = tokens(key)
    return len(have & wanted) / len(have | wanted)


def vocabulary(param: str, kind: str, schema: dict[str, Any], rng: random.Random) -> list[Any]:
    if kind == "array":
        item_schema = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "string"}
        item_kind = schema_type(item_schema)
        if item_kind in ("number", "integer"):
            return [[rng.choice(NUMBERS) + rng.randint(0, 40) for _ in range(rng.randint(3, 5))] for _ in range(2)]
        items = vocabulary(param.rstrip("s"), item_kind, item_schema, rng)
        return [items[:1], items[:2]] if items else []
    if kind == "integer":
        return list(INTEGERS)
    if kind == "number":
        return list(NUMBERS)
    if kind == "boolean":
        return [True, False]
    if kind == "object":
        return [example_object(schema, rng)]
    words = tokens(param)
    values = [value for word in sorted(words) for value in VOCABULARY.get(word, [])]
    if not values:
        values = [value for word, options in VOCABULARY.items() if any(word in w for w in words) for value in options]
    return values + [f"{'-'.join(sorted(words))}-{rng.choice(STRINGS)}"]


def example_object(schema: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    if not properties:
        return {"note": "updated"}
    name = rng.choice(sorted(properties))
    example: dict[str, Any] = {}
    # The drawn property, then every required one: an object missing a required field can only fail
    # (MCP tools take such objects: edit_file's {oldText, newText}, create_entities' entities).
    for key in [name, *[k for k in schema.get("required", []) if k in properties and k != name]]:
        values = description_values(properties[key]) or vocabulary(key, schema_type(properties[key]), properties[key], rng)
        if values:
            example[key] = values[0]
    return example


def schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """`value` in the parameter's type, or None where it does not fit (no lossy guesses)."""
    kind = schema_type(schema)
    if kind == "string":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return value if isinstance(value, str) and value else None
    if kind == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,12}", value.strip()):
            return int(value)
        return None
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()) and len(value) < 15:
            return float(value)
        return None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "array":
        if isinstance(value, list):
            item_schema = schema.get("items") if isinstance(schema.get("items"), dict) else {}
            items = [coerce(item, item_schema) if item_schema else item for item in value]
            return items if items and all(item is not None for item in items) else None
        single = coerce(value, schema.get("items") or {}) if isinstance(schema.get("items"), dict) else None
        return [single] if single is not None else None
    if kind == "object":
        return value if isinstance(value, dict) else None
    return value
