"""The loaded-pool interface every loader returns, and how bad entries are reported.

A pool with a few malformed entries is still useful: loaders keep the good entries and report every bad
one with its location and reason; `strict=True` turns any report into a `PoolLoadError`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.execution.backends import BackendSession


@dataclass(frozen=True)
class PoolIssue:
    location: str
    reason: str
    name: str | None = None

    def __str__(self) -> str:
        label = f" [{self.name}]" if self.name else ""
        return f"{self.location}{label}: {self.reason}"


class PoolLoadError(ValueError):
    def __init__(self, source: str, issues: list[PoolIssue]):
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"pool {source}: {len(issues)} bad entr{'y' if len(issues) == 1 else 'ies'}\n{lines}")
        self.issues = issues


SessionFactory = Callable[[list[FunctionSpec], dict[str, Any]], BackendSession]


@dataclass(frozen=True)
class FunctionPool:
    name: str
    kind: str
    source: str
    specs: tuple[FunctionSpec, ...]
    session_factory: SessionFactory = field(repr=False)
    issues: tuple[PoolIssue, ...] = ()
    simulated: bool = False

    def __post_init__(self) -> None:
        counts = Counter(spec.qualified_name for spec in self.specs)
        duplicates = [name for name, count in counts.items() if count > 1]
        if duplicates:
            raise ValueError(f"pool {self.name}: duplicate qualified names {duplicates}")

    @property
    def by_name(self) -> dict[str, FunctionSpec]:
        return {spec.qualified_name: spec for spec in self.specs}

    def spec(self, qualified_name: str) -> FunctionSpec:
        try:
            return self.by_name[qualified_name]
        except KeyError:
            raise KeyError(f"pool {self.name} has no function {qualified_name!r}") from None

    def classes(self) -> dict[str, list[FunctionSpec]]:
        grouped: dict[str, list[FunctionSpec]] = {}
        for spec in self.specs:
            grouped.setdefault(spec.tool_class or "(none)", []).append(spec)
        return grouped

    def new_session(self, qualified_names: list[str] | None = None, initial_state: dict[str, Any] | None = None) -> BackendSession:
        """A fresh, isolated session offering `qualified_names` (default: every function)."""
        specs = [self.spec(name) for name in qualified_names] if qualified_names is not None else list(self.specs)
        return self.session_factory(specs, json.loads(json.dumps(initial_state or {})))

    def fingerprint(self) -> str:
        """Content hash of the specs: part of every downstream cache key."""
        payload = json.dumps([spec.model_dump(mode="json") for spec in self.specs], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def finish(issues: list[PoolIssue], source: str, strict: bool) -> None:
    if strict and issues:
        raise PoolLoadError(source, issues)


def dedupe(specs: list[FunctionSpec], locations: list[str], issues: list[PoolIssue]) -> list[FunctionSpec]:
    """Keep the first of each qualified name and report every later duplicate."""
    seen: dict[str, str] = {}
    kept: list[FunctionSpec] = []
    for spec, location in zip(specs, locations):
        if spec.qualified_name in seen:
            issues.append(PoolIssue(location, f"duplicate name (first defined at {seen[spec.qualified_name]})", spec.qualified_name))
            continue
        seen[spec.qualified_name] = location
        kept.append(spec)
    return kept
