"""The right answer to a BFCL single-turn entry, built from its possible answers (for oracle tests).

Each parameter takes its first accepted value; a parameter that accepts "" (optional) is left out
unless the function requires it. Java and JavaScript parameters are strings in the language's syntax:
the first candidate spelling that the package's own type converter reads back as the value is used.
"""

from __future__ import annotations

import json
from typing import Any

from bfcl_eval.eval_checker.ast_eval.type_convertor.java_type_converter import java_type_converter
from bfcl_eval.eval_checker.ast_eval.type_convertor.js_type_converter import js_type_converter

from magnet_core.evaluate.bfcl_data import SingleTurnCase


def oracle_calls(case: SingleTurnCase) -> list[dict[str, Any]]:
    """[{name, arguments}]. Relevance entries call their first function; irrelevance entries call nothing."""
    if case.possible_answer is None:
        return [{"name": case.functions[0]["name"], "arguments": {}}] if case.category == "live_relevance" else []
    docs = {function["name"]: function for function in case.functions}
    calls = []
    for answer in case.possible_answer:
        (name, params), = answer.items()
        doc = docs[name]["parameters"]
        arguments = {}
        for key, options in params.items():
            chosen = [option for option in options if option != ""]
            if chosen and ("" not in options or key in doc.get("required", [])):
                arguments[key] = _spelled(case, doc["properties"].get(key, {}), _value(chosen[0]))
        calls.append({"name": name, "arguments": arguments})
    return calls


def _value(value: Any) -> Any:
    """Nested dict answers hold options per key: take the first accepted one."""
    if isinstance(value, dict):
        out = {}
        for key, options in value.items():
            if isinstance(options, list):
                chosen = [option for option in options if option != ""]
                if chosen:
                    out[key] = _value(chosen[0])
            else:
                out[key] = options
        return out
    if isinstance(value, list):
        return [_value(item) for item in value]
    return value


def _spelled(case: SingleTurnCase, schema: dict[str, Any], value: Any) -> Any:
    converter = {"simple_java": java_type_converter, "simple_javascript": js_type_converter}.get(case.category)
    if converter is None:
        return value
    kind = schema.get("type", "any")
    nested = (schema.get("items") or {}).get("type")
    candidates = [value] if isinstance(value, str) else []
    candidates += [json.dumps(value), str(value), str(value).lower(), json.dumps(value).replace('"', "'")]
    if isinstance(value, int) and not isinstance(value, bool):
        candidates.append(f"{value}L")
    if isinstance(value, list):
        candidates.append("new ArrayList<>(Arrays.asList(" + ", ".join(f"{v}L" if type(v) is int else _java(v) for v in value) + "))")
        candidates.append("new ArrayList<>(Arrays.asList(" + ", ".join(_java(v) for v in value) + "))")
        candidates.append("new int[]{" + ", ".join(_java(v) for v in value) + "}")
        candidates.append("new String[]{" + ", ".join(str(v) for v in value) + "}")
        candidates.append("new ArrayList<>(Arrays.asList(" + ", ".join(str(v) for v in value) + "))")
    if isinstance(value, dict):
        candidates.append("new HashMap<String, Object>() {{ " + " ".join(f"put({json.dumps(k)}, {_java(v)});" for k, v in value.items()) + " }}")
    for candidate in candidates:
        try:
            read = converter(candidate, kind, nested) if nested else converter(candidate, kind)
        except Exception:  # noqa: BLE001 - a spelling the converter cannot read is just not the one
            continue
        if read == value or (isinstance(value, str) and candidate == value):
            return candidate
    return json.dumps(value)


def _java(value: Any) -> str:
    return "true" if value is True else "false" if value is False else json.dumps(value)
