"""Normalise tool-schema dialects to standard JSON Schema, refusing what we cannot trust.

BFCL writes "dict"/"float"/"tuple"/"any"; OpenAI-style pools may carry `$ref` cycles or, when built in
Python, object cycles. Downstream code (graph heuristics, argument validation, chat templates) assumes a
finite, standard schema, so every departure is either mapped or reported with its JSON path.
"""

from __future__ import annotations

from typing import Any

import jsonschema

TYPE_ALIASES: dict[str, str | None] = {
    "dict": "object",
    "object": "object",
    "float": "number",
    "double": "number",
    "number": "number",
    "int": "integer",
    "integer": "integer",
    "str": "string",
    "string": "string",
    "bool": "boolean",
    "boolean": "boolean",
    "list": "array",
    "array": "array",
    "tuple": "array",
    "null": "null",
    "any": None,
}
MAX_SCHEMA_DEPTH = 32
_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions")
_SCHEMA_VALUE_KEYS = ("items", "additionalProperties", "not", "contains", "propertyNames")
_SCHEMA_LIST_KEYS = ("anyOf", "oneOf", "allOf", "prefixItems")


class SchemaError(ValueError):
    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def normalize_schema(schema: Any, path: str = "$") -> dict[str, Any]:
    """Return a normalised deep copy of `schema`; raise `SchemaError` naming the first bad spot."""
    normalized = _normalize(schema, path, depth=0, active=set())
    _check_refs(normalized, normalized, path)
    try:
        jsonschema.Draft202012Validator.check_schema(normalized)
    except jsonschema.SchemaError as error:
        location = "/".join(str(part) for part in error.absolute_path)
        raise SchemaError(f"{path}/{location}" if location else path, f"invalid JSON Schema: {error.message}") from None
    return normalized


def normalize_parameters(schema: Any, path: str = "$.parameters") -> dict[str, Any]:
    """A function's parameters: an object schema whose `required` names existing properties."""
    if schema is None:
        return {"type": "object", "properties": {}}
    normalized = normalize_schema(schema, path)
    if normalized.get("type") not in ("object", None):
        raise SchemaError(path, f"parameters must be an object schema, got type {normalized.get('type')!r}")
    normalized.setdefault("type", "object")
    normalized.setdefault("properties", {})
    required = normalized.get("required", [])
    missing = [name for name in required if name not in normalized["properties"]]
    if missing:
        raise SchemaError(path, f"required parameters without a schema: {missing}")
    return normalized


def _normalize(node: Any, path: str, depth: int, active: set[int]) -> Any:
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaError(path, f"schema nested deeper than {MAX_SCHEMA_DEPTH}")
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise SchemaError(path, f"a schema must be an object, got {type(node).__name__}")
    if id(node) in active:
        raise SchemaError(path, "schema contains a reference cycle")
    active = active | {id(node)}
    result: dict[str, Any] = {}
    for key, value in node.items():
        if not isinstance(key, str):
            raise SchemaError(path, f"non-string key {key!r}")
        child = f"{path}.{key}"
        if key == "type":
            result[key] = _normalize_type(value, child)
            if result[key] is None:
                del result[key]
        elif key in _SCHEMA_MAP_KEYS:
            if not isinstance(value, dict):
                raise SchemaError(child, f"'{key}' must map names to schemas")
            result[key] = {name: _normalize(sub, f"{child}.{name}", depth + 1, active) for name, sub in value.items()}
        elif key in _SCHEMA_VALUE_KEYS:
            if key == "items" and isinstance(value, list):
                result["prefixItems"] = [_normalize(sub, f"{child}[{i}]", depth + 1, active) for i, sub in enumerate(value)]
            else:
                result[key] = _normalize(value, child, depth + 1, active)
        elif key in _SCHEMA_LIST_KEYS:
            if not isinstance(value, list):
                raise SchemaError(child, f"'{key}' must be a list of schemas")
            result[key] = [_normalize(sub, f"{child}[{i}]", depth + 1, active) for i, sub in enumerate(value)]
        elif key == "required" and isinstance(value, bool):
            continue  # Swagger-style per-property flag; JSON Schema lists required names on the parent
        else:
            result[key] = _plain_copy(value, child, depth + 1, active)
    if result.get("type") == "array" and "prefixItems" not in result:
        result.setdefault("items", {})
    return result


def _normalize_type(value: Any, path: str) -> Any:
    if isinstance(value, list):
        mapped = [_normalize_type(item, path) for item in value]
        return None if None in mapped else mapped
    if not isinstance(value, str):
        raise SchemaError(path, f"type must be a string, got {type(value).__name__}")
    key = value.strip().lower()
    if key not in TYPE_ALIASES:
        raise SchemaError(path, f"unknown type {value!r}")
    return TYPE_ALIASES[key]


def _plain_copy(value: Any, path: str, depth: int, active: set[int]) -> Any:
    if depth > MAX_SCHEMA_DEPTH * 2:
        raise SchemaError(path, "value nested too deeply")
    if isinstance(value, (dict, list)):
        if id(value) in active:
            raise SchemaError(path, "schema contains a reference cycle")
        active = active | {id(value)}
        if isinstance(value, dict):
            return {str(k): _plain_copy(v, f"{path}.{k}", depth + 1, active) for k, v in value.items()}
        return [_plain_copy(v, f"{path}[{i}]", depth + 1, active) for i, v in enumerate(value)]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise SchemaError(path, f"value of type {type(value).__name__} is not JSON")


def _check_refs(node: Any, root: dict[str, Any], path: str, seen: tuple[str, ...] = ()) -> None:
    """Local `$ref`s must resolve and must not recurse: recursive schemas have no finite example."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#"):
                raise SchemaError(path, f"remote $ref {ref!r} is not allowed")
            if ref in seen:
                raise SchemaError(path, f"recursive $ref cycle through {ref!r}")
            target = _resolve_pointer(root, ref, path)
            _check_refs(target, root, f"{path}->{ref}", seen + (ref,))
        for key, value in node.items():
            if key != "$ref":
                _check_refs(value, root, f"{path}.{key}", seen)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_refs(value, root, f"{path}[{index}]", seen)


def _resolve_pointer(root: dict[str, Any], ref: str, path: str) -> Any:
    target: Any = root
    for part in [p for p in ref[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            raise SchemaError(path, f"$ref {ref!r} does not resolve")
        target = target[part]
    return target
