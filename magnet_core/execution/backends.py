"""Stateful backend sessions: one per scenario, never shared, state copied from the initial config.

A session owns the objects that calls mutate (a file system, a trading account). Isolation is the
point: two scenarios must never see each other's writes, and re-running a scenario must start from the
same state, or caching and resume would be wrong.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from magnet_core.domain.functions import FunctionSpec


class BackendSession(ABC):
    simulated: bool = False

    def __init__(self, specs: list[FunctionSpec]):
        self.specs: dict[str, FunctionSpec] = {}
        for spec in specs:
            if spec.name in self.specs:
                raise ValueError(f"two offered functions share the name {spec.name!r}; offer one per name")
            self.specs[spec.name] = spec

    @abstractmethod
    def invoke(self, name: str, arguments: dict[str, Any]) -> Any:
        """Run one call; may raise or return a BFCL-style {"error": ...}. The executor handles both."""

    def state(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        """Release what the session holds (server processes, temporary files); in-process backends hold nothing."""


def _fresh_mutable_defaults(method: Callable[..., Any], arguments: dict[str, Any]) -> dict[str, Any]:
    """Pass copies of omitted list/dict/set defaults: backends such as BFCL's `post_tweet(mentions=[])`
    store the default object and later mutate it, which would leak state across sessions in a process."""
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return arguments
    for parameter in parameters:
        if parameter.name not in arguments and isinstance(parameter.default, (list, dict, set)):
            arguments[parameter.name] = copy.deepcopy(parameter.default)
    return arguments


class InstanceBackendSession(BackendSession):
    """Calls bound methods of per-session instances (BFCL classes, user Python classes)."""

    def __init__(self, specs: list[FunctionSpec], instances: dict[str | None, Any]):
        super().__init__(specs)
        self._instances = instances
        self._methods: dict[str, Callable[..., Any]] = {}
        for spec in self.specs.values():
            owner = instances.get(spec.tool_class)
            if owner is None:
                raise ValueError(f"no backend instance for tool class {spec.tool_class!r}")
            method = getattr(owner, spec.name, None)
            if not callable(method) or spec.name.startswith("_"):
                raise ValueError(f"{spec.qualified_name} has no public callable on its backend")
            self._methods[spec.name] = method

    def invoke(self, name: str, arguments: dict[str, Any]) -> Any:
        return self._methods[name](**_fresh_mutable_defaults(self._methods[name], copy.deepcopy(arguments)))

    def state(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = {}
        for tool_class, instance in self._instances.items():
            public = {k: v for k, v in vars(instance).items() if not k.startswith("_")}
            snapshot[str(tool_class)] = json.loads(json.dumps(public, default=str))
        return snapshot


class SimulatedBackendSession(BackendSession):
    """Schema-driven responses for pools without implementations, marked as simulated.

    The response is a deterministic function of (function, arguments) so that a re-run or a cached
    stage reproduces it exactly. It carries no real semantics: data from such pools say so.
    """

    simulated = True

    def invoke(self, name: str, arguments: dict[str, Any]) -> Any:
        spec = self.specs[name]
        digest = hashlib.sha256(json.dumps([name, arguments], sort_keys=True, default=str).encode()).hexdigest()
        schema = spec.response or {"type": "object", "properties": {"result": {"type": "string"}}}
        return example_from_schema(schema, digest, name, arguments)


def example_from_schema(schema: dict[str, Any], digest: str, label: str, arguments: dict[str, Any], depth: int = 0) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if "enum" in schema and schema["enum"]:
        return schema["enum"][int(digest[:8], 16) % len(schema["enum"])]
    if kind == "object" or (kind is None and "properties" in schema):
        if depth > 4:
            return {}
        return {
            key: example_from_schema(sub if isinstance(sub, dict) else {}, _rehash(digest, key), key, arguments, depth + 1)
            for key, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        item = schema.get("items") if isinstance(schema.get("items"), dict) else {"type": "string"}
        return [example_from_schema(item, _rehash(digest, str(i)), label, arguments, depth + 1) for i in range(2)]
    if kind == "integer":
        return int(digest[:6], 16) % 1000
    if kind == "number":
        return round((int(digest[:6], 16) % 100000) / 100.0, 2)
    if kind == "boolean":
        return int(digest[0], 16) % 2 == 0
    if kind == "null":
        return None
    if label in arguments and isinstance(arguments[label], str):
        return arguments[label]
    return f"{label}_{digest[:8]}"


def _rehash(digest: str, salt: str) -> str:
    return hashlib.sha256((digest + salt).encode()).hexdigest()
