"""Several pools as one: `bfcl=MathAPI,TradingBot | mcp=mcp-server-git; mcp-server-time`.

Each part is loaded by its own loader; a session offers every involved class through the owning pool's
backend (`CompositeSession`), and a scenario's initial state is each part's own state for its classes.
Classes must not repeat across parts, and a bare tool name only once (sessions offer tools by bare name).
"""

from __future__ import annotations

from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.execution.backends import BackendSession
from magnet_core.pools.base import FunctionPool, PoolIssue, PoolLoadError, SpecCollector


class CompositeSession(BackendSession):
    """One session over the sessions of several pools, dispatching each call to its owner."""

    def __init__(self, specs: list[FunctionSpec], parts: list[BackendSession]):
        super().__init__(specs)
        self.parts = parts
        self._owner = {name: part for part in parts for name in part.specs}
        self.simulated = any(part.simulated for part in parts)

    def invoke(self, name: str, arguments: dict[str, Any]) -> Any:
        return self._owner[name].invoke(name, arguments)

    def state(self) -> dict[str, Any]:
        return {key: value for part in self.parts for key, value in part.state().items()}

    def close(self) -> None:
        for part in self.parts:
            part.close()


def load_mixed_pool(source: str, strict: bool = False) -> FunctionPool:
    from magnet_core.pools.registry import load_pool

    parts: list[FunctionPool] = []
    for text in [part.strip() for part in source.split("|") if part.strip()]:
        kind, _, sub_source = text.partition("=")
        if kind.strip() in ("mixed", ""):
            raise PoolLoadError(source, [PoolIssue(text, "each part is `kind=source` with a non-mixed kind")])
        parts.append(load_pool(kind.strip(), sub_source.strip() or None, strict=strict))
    collector = SpecCollector(source)
    owner_of_class: dict[str | None, FunctionPool] = {}
    names: set[str] = set()
    for part in parts:
        for spec in part.specs:
            location = f"{part.kind}:{spec.qualified_name}"
            if owner_of_class.setdefault(spec.tool_class, part) is not part:
                collector.refuse(location, f"tool class {spec.tool_class!r} is already provided by another part", spec.name)
            elif spec.name in names:
                collector.refuse(location, "duplicate name (another part has a tool with this name)", spec.name)
            else:
                names.add(spec.name)
                collector.add(spec, location)
    collector.issues[:0] = [issue for part in parts for issue in part.issues]
    specs, issues = collector.finish(strict)

    def factory(chosen: list[FunctionSpec], initial_state: dict[str, Any]) -> BackendSession:
        grouped: dict[int, list[FunctionSpec]] = {}
        for spec in chosen:
            grouped.setdefault(id(owner_of_class[spec.tool_class]), []).append(spec)
        sessions = [part.session_factory(grouped[id(part)], initial_state) for part in parts if id(part) in grouped]
        return CompositeSession(chosen, sessions)

    def state_factory(tool_classes: list[str], seed: int) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for part in parts:
            mine = [c for c in tool_classes if owner_of_class.get(c) is part]
            if mine and part.kind == "bfcl":
                from magnet_core.translate.initial_state import initial_state_for

                state.update(initial_state_for(mine, seed))
            elif mine:
                state.update(part.scenario_state(mine, seed))
        return state

    return FunctionPool(name="+".join(part.name for part in parts), kind="mixed", source=source, specs=specs,
                        session_factory=factory, issues=issues, simulated=any(p.simulated for p in parts),
                        state_factory=state_factory)
