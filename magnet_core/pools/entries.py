"""Turn one raw tool definition (BFCL doc line, OpenAI tool) into a `FunctionSpec` or a reported issue."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from magnet_core.domain.functions import FunctionSpec
from magnet_core.pools.base import PoolIssue
from magnet_core.pools.schema import SchemaError, normalize_parameters, normalize_schema

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")


def spec_from_raw(
    raw: Any,
    location: str,
    *,
    source_pool: str,
    tool_class: str | None = None,
    category: str | None = None,
    executable: bool = True,
) -> FunctionSpec | PoolIssue:
    if not isinstance(raw, dict):
        return PoolIssue(location, f"entry must be an object, got {type(raw).__name__}")
    body = raw.get("function", raw) if raw.get("type") == "function" or "function" in raw else raw
    if not isinstance(body, dict):
        return PoolIssue(location, "'function' must be an object")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        return PoolIssue(location, "missing function name")
    if not NAME_PATTERN.match(name):
        return PoolIssue(location, "invalid function name (letters, digits, _ and -, at most 64)", name)
    description = body.get("description", "")
    if not isinstance(description, str):
        return PoolIssue(location, "description must be text", name)
    try:
        parameters = normalize_parameters(body.get("parameters"), f"{location}.parameters")
        response_raw = body.get("response", raw.get("response"))
        response = normalize_schema(response_raw, f"{location}.response") if response_raw is not None else None
    except SchemaError as error:
        return PoolIssue(error.path, error.reason, name)
    try:
        return FunctionSpec(
            name=name,
            description=description.strip(),
            parameters=parameters,
            response=response,
            category=body.get("category", raw.get("category", category)),
            tool_class=body.get("tool_class", raw.get("tool_class", tool_class)),
            source_pool=source_pool,
            executable=executable,
        )
    except ValidationError as error:
        return PoolIssue(location, f"invalid spec: {error.errors()[0]['msg']}", name)
