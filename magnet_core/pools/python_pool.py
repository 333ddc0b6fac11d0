"""Any importable class or module as a pool: typed, documented public callables become functions.

`module:Class` exposes the class's public methods (one instance per session, state from
`_load_scenario(config)` when the class has it, else constructor keyword arguments); `module` exposes its
public functions. Type hints become JSON Schema; the docstring's first paragraph is the description and
its `Args:` / `Returns:` sections document parameters and the response. A callable without hints or a
docstring is reported, not guessed at.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from magnet_core.domain.functions import FunctionSpec
from magnet_core.execution.backends import BackendSession, InstanceBackendSession
from magnet_core.pools.base import FunctionPool, PoolIssue, PoolLoadError, SpecCollector
from magnet_core.pools.entries import spec_from_raw

_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Returns|Return|Raises|Yields)\s*:\s*$")
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")


class _ModuleOwner:
    """Stands in for an instance when the pool is a module of plain functions."""

    def __init__(self, module: types.ModuleType):
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def load_python_pool(source: str, strict: bool = False) -> FunctionPool:
    module_name, _, class_name = source.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - report any import failure of user code
        raise PoolLoadError(source, [PoolIssue(source, f"cannot import {module_name!r}: {type(error).__name__}: {error}")]) from None
    target: Any = module
    if class_name:
        target = getattr(module, class_name, None)
        if not inspect.isclass(target):
            raise PoolLoadError(source, [PoolIssue(source, f"{class_name!r} is not a class in {module_name}")])
    tool_class = class_name or module_name.rsplit(".", 1)[-1]
    collector = SpecCollector(source)
    for name, member in _public_callables(target, module_name if not class_name else None):
        location = f"{source}.{name}"
        raw = _describe(name, member, location, collector.issues)
        if raw is not None:
            collector.add(spec_from_raw(raw, location, source_pool=f"python:{source}", tool_class=tool_class), location)
    specs, issues = collector.finish(strict)

    def factory(chosen: list[FunctionSpec], initial_state: dict[str, Any]) -> BackendSession:
        config = initial_state.get(tool_class, {})
        if class_name:
            if hasattr(target, "_load_scenario"):
                owner = target()
                owner._load_scenario(config)
            else:
                owner = target(**config)
        else:
            owner = _ModuleOwner(module)
        return InstanceBackendSession(chosen, {tool_class: owner})

    return FunctionPool(name=tool_class, kind="python", source=source, specs=specs, session_factory=factory, issues=issues)


def _public_callables(target: Any, module_name: str | None) -> list[tuple[str, Any]]:
    members = []
    for name, member in inspect.getmembers(target):
        if name.startswith("_") or not callable(member) or inspect.isclass(member):
            continue
        if module_name is not None and getattr(member, "__module__", None) != module_name:
            continue  # imported helpers are not the module's API
        members.append((name, member))
    return members


def _describe(name: str, member: Any, location: str, issues: list[PoolIssue]) -> dict[str, Any] | None:
    try:
        signature = inspect.signature(member)
        hints = typing.get_type_hints(member)
    except (TypeError, ValueError, NameError) as error:
        issues.append(PoolIssue(location, f"cannot read signature/type hints: {error}", name))
        return None
    doc = inspect.getdoc(member)
    if not doc:
        issues.append(PoolIssue(location, "no docstring: the description is what the model reads", name))
        return None
    summary, arg_docs, returns_doc = _parse_docstring(doc)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        if param.name in ("self", "cls") or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name not in hints:
            issues.append(PoolIssue(location, f"parameter {param.name!r} has no type hint", name))
            return None
        try:
            schema = type_to_schema(hints[param.name])
        except TypeError as error:
            issues.append(PoolIssue(location, f"parameter {param.name!r}: {error}", name))
            return None
        if param.name in arg_docs:
            schema["description"] = arg_docs[param.name]
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
        elif param.default is not None and _json_scalar(param.default):
            schema["default"] = param.default
        properties[param.name] = schema
    raw: dict[str, Any] = {"name": name, "description": summary, "parameters": {"type": "object", "properties": properties, "required": required}}
    if "return" in hints and hints["return"] is not type(None):
        try:
            response = type_to_schema(hints["return"])
        except TypeError:
            response = {}
        if returns_doc:
            response["description"] = returns_doc
        raw["response"] = response
    return raw


def type_to_schema(annotation: Any) -> dict[str, Any]:
    if annotation is Any:
        return {}
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (Union, types.UnionType):
        non_null = [arg for arg in args if arg is not type(None)]
        if len(non_null) == 1:
            return type_to_schema(non_null[0])
        return {"anyOf": [type_to_schema(arg) for arg in non_null]}
    if origin is Literal:
        return {"enum": list(args)}
    if annotation in (str,):
        return {"type": "string"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if annotation in (dict,) or origin is dict:
        return {"type": "object"}
    if annotation in (list, tuple, set) or origin in (list, tuple, set):
        item = type_to_schema(args[0]) if args and args[0] is not Ellipsis else {}
        return {"type": "array", "items": item}
    raise TypeError(f"unsupported type {annotation!r}")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str], str]:
    summary_lines: list[str] = []
    args: dict[str, str] = {}
    returns: list[str] = []
    section: str | None = None
    current: str | None = None
    for line in doc.splitlines():
        header = _SECTION.match(line)
        if header:
            section = header.group(1).lower()
            current = None
            continue
        if section is None:
            summary_lines.append(line)
        elif section in ("args", "arguments", "parameters"):
            match = _ARG_LINE.match(line)
            if match and not line.startswith("        "):
                current = match.group(1).lstrip("*")
                args[current] = match.group(3).strip()
            elif current and line.strip():
                args[current] = f"{args[current]} {line.strip()}".strip()
        elif section in ("returns", "return") and line.strip():
            returns.append(line.strip())
    summary = " ".join(" ".join(summary_lines).split())
    return summary, args, " ".join(returns)


def _json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))
