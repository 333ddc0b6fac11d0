"""The loaded-pool interface every loader returns, and how bad entries are reported.

A pool with a few malformed entries is still useful: loaders keep the good entries and report every bad
one with its location and reason; `strict=True` turns any report into a `PoolLoadError`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
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
StateFactory = Callable[[list[str], int], dict[str, Any]]


@dataclass(frozen=True)
class FunctionPool:
    name: str
    kind: str
    source: str
    specs: tuple[FunctionSpec, ...]
    session_factory: SessionFactory = field(repr=False)
    issues: tuple[PoolIssue, ...] = ()
    simulated: bool = False
    state_factory: StateFactory | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        counts = Counter(spec.qualified_name for spec in self.specs)
        duplicates = [name for name, count in counts.items() if count > 1]
        if duplicates:
            raise ValueError(f"pool {self.name}: duplicate qualified names {duplicates}")

    @cached_property
    def by_name(self) -> dict[str, FunctionSpec]:
        """Built once per pool: a lookup per call must not cost a pass over thousands of specs."""
        return {spec.qualified_name: spec for spec in self.specs}

    @cached_property
    def plain_name_of(self) -> dict[str, str]:
        """Qualified name -> the name a model writes in a call (shared: read it, never change it)."""
        return {spec.qualified_name: spec.name for spec in self.specs}

    @cached_property
    def plain_names(self) -> frozenset[str]:
        """Unqualified names (what a model writes in a call)."""
        return frozenset(spec.name for spec in self.specs)

    @cached_property
    def by_class(self) -> dict[str, tuple[FunctionSpec, ...]]:
        grouped: dict[str, list[FunctionSpec]] = {}
        for spec in self.specs:
            grouped.setdefault(spec.tool_class or "(none)", []).append(spec)
        return {name: tuple(specs) for name, specs in grouped.items()}

    @cached_property
    def class_names(self) -> tuple[str, ...]:
        """Tool class names, sorted ("(none)" for specs without a class)."""
        return tuple(sorted(self.by_class))

    def class_specs(self, tool_class: str | None) -> tuple[FunctionSpec, ...]:
        """The specs of one tool class, in pool order (empty for None or an unknown class)."""
        return self.by_class.get(tool_class, ()) if tool_class is not None else ()

    @cached_property
    def _class_order(self) -> tuple[tuple[FunctionSpec, ...], dict[str, tuple[int, int]]]:
        ordered: list[FunctionSpec] = []
        spans: dict[str, tuple[int, int]] = {}
        for name in sorted(self.by_class):
            spans[name] = (len(ordered), len(ordered) + len(self.by_class[name]))
            ordered += self.by_class[name]
        return tuple(ordered), spans

    def specs_outside(self, tool_class: str) -> Sequence[FunctionSpec]:
        """Every spec of the other classes, classes in name order: a view, not a copy of the pool."""
        ordered, spans = self._class_order
        start, stop = spans.get(tool_class, (len(ordered), len(ordered)))
        return _Gap(ordered, start, stop)

    def spec(self, qualified_name: str) -> FunctionSpec:
        try:
            return self.by_name[qualified_name]
        except KeyError:
            raise KeyError(f"pool {self.name} has no function {qualified_name!r}") from None

    def classes(self) -> dict[str, list[FunctionSpec]]:
        return {name: list(specs) for name, specs in self.by_class.items()}

    def new_session(self, qualified_names: list[str] | None = None, initial_state: dict[str, Any] | None = None) -> BackendSession:
        """A fresh, isolated session offering `qualified_names` (default: every function)."""
        specs = [self.spec(name) for name in qualified_names] if qualified_names is not None else list(self.specs)
        return self.session_factory(specs, json.loads(json.dumps(initial_state or {})))

    def scenario_state(self, tool_classes: list[str], seed: int) -> dict[str, Any]:
        """A scenario's seeded initial state (tool class -> backend config), recorded with its samples so
        every stored call can be replayed; `{}` for pools whose backends start from their defaults."""
        return self.state_factory(sorted(tool_classes), seed) if self.state_factory else {}

    def fingerprint(self) -> str:
        """Content hash of the specs: part of every downstream cache key. Computed once (specs are frozen)."""
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        payload = json.dumps([spec.model_dump(mode="json") for spec in self.specs], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


class _Gap(Sequence):
    """`ordered` without the slice [start, stop): what `random.sample` needs (len and indexing), no copy."""

    def __init__(self, ordered: tuple[FunctionSpec, ...], start: int, stop: int):
        self._ordered, self._start, self._width = ordered, start, stop - start

    def __len__(self) -> int:
        return len(self._ordered) - self._width

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._ordered[index if index < self._start else index + self._width]


def pool_name(kind: str, specs: Sequence[FunctionSpec]) -> str:
    """A file pool's name from what it offers (its tool classes), never from the file's name or place:
    the name is stored with every sample, so a path in it would make a copied pool a new dataset."""
    classes = sorted({spec.tool_class for spec in specs if spec.tool_class})
    if not classes:
        return kind
    return "+".join(classes) if len(classes) <= 3 else f"{kind}-{len(classes)}-classes"


@dataclass
class SpecCollector:
    """Gathers one loader's results: good specs in order, and every refused entry with its reason."""

    source: str
    specs: list[FunctionSpec] = field(default_factory=list)
    issues: list[PoolIssue] = field(default_factory=list)
    _first_seen: dict[str, str] = field(default_factory=dict)

    def add(self, result: FunctionSpec | PoolIssue, location: str) -> None:
        """Keep a spec (the first of each qualified name) or record why an entry was refused."""
        if isinstance(result, PoolIssue):
            self.issues.append(result)
            return
        first = self._first_seen.get(result.qualified_name)
        if first is not None:
            self.issues.append(PoolIssue(location, f"duplicate name (first defined at {first})", result.qualified_name))
            return
        self._first_seen[result.qualified_name] = location
        self.specs.append(result)

    def refuse(self, location: str, reason: str, name: str | None = None) -> None:
        self.issues.append(PoolIssue(location, reason, name))

    def finish(self, strict: bool) -> tuple[tuple[FunctionSpec, ...], tuple[PoolIssue, ...]]:
        if strict and self.issues:
            raise PoolLoadError(self.source, self.issues)
        return tuple(self.specs), tuple(self.issues)
