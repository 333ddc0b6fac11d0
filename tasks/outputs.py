"""What stage tasks return: small refs and counts, never the items themselves."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from threading import Lock

from pydantic import BaseModel, ConfigDict, Field

from magnet_core.pools import load_pool
from magnet_core.pools.base import FunctionPool, PoolIssue
from magnet_core.pools.labelling import apply_labels, unlabelled
from tasks.intake_models import IntakeOutput
from tasks.llm_usage import ShardUsage
from tasks.refs import ArtifactRef, read_verified, write_json


class PoolSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field("bfcl", description="bfcl, openai-json, python, mcp or mixed")
    source: str | None = Field(None, description="JSON/JSONL path, module[:Class], BFCL class list, MCP servers (cmd; url), or kind=source | kind=source")
    strict: bool = Field(False, description="Fail on any malformed entry instead of skipping it")


class PoolRef(BaseModel):
    """A loaded pool, by its settings and content fingerprint (the pool itself holds live backends)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    settings: PoolSettings
    name: str
    fingerprint: str
    functions: int
    simulated: bool
    issues: tuple[str, ...] = ()
    unlabelled: int = Field(0, description="Functions the pool itself leaves without a category")
    labels: ArtifactRef | None = Field(None, description=(
        "The category labeller's answers, computed once per run (`label_pool_task`): every task applies "
        "them on load, so no task calls the labeller again"))

    def key_fields(self) -> dict:
        return {"fingerprint": self.fingerprint, "kind": self.settings.kind}


class StageOutput(BaseModel):
    """A shard's result. Downstream cache keys chain on `key` (a hash of this shard's inputs, code and
    config), not on the output bytes, which may hold wall-clock measurements such as call durations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    key: str
    ref: ArtifactRef
    items_in: int = 0
    items_out: int = 0
    rejects: int = 0
    offline: bool = True
    usage: ShardUsage = Field(default_factory=ShardUsage)
    summary: dict = Field(default_factory=dict)
    intake: IntakeOutput | None = Field(None, description=(
        "This output prepared for assembly by the task that made it, when the flow asked (not part of the key)"))

    def key_fields(self) -> dict:
        return {"stage": self.stage, "key": self.key}


class _LoadedPools:
    """Pools this process has loaded, keyed by their content fingerprint, never by their source alone.

    A key of settings (a file path) alone would hand back the old pool after the file changed: the run
    would silently synthesize from stale functions. `describe_pool` always loads afresh (once per run) and
    files the result under its fingerprint; tasks then find it by the fingerprint their ref carries.
    """

    def __init__(self, size: int = 8) -> None:
        self._pools: OrderedDict[tuple, FunctionPool] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, key: tuple) -> FunctionPool | None:
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
            return pool

    def put(self, key: tuple, pool: FunctionPool) -> None:
        with self._lock:
            self._pools[key] = pool
            self._pools.move_to_end(key)
            while len(self._pools) > self._size:
                self._pools.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pools.clear()


LOADED_POOLS = _LoadedPools()


def _labelled(raw: FunctionPool, labels: ArtifactRef | None) -> FunctionPool:
    """The pool as loaded, with the run's stored labeller answers applied (none: as loaded)."""
    if labels is None:
        return raw
    stored = json.loads(read_verified(labels))
    issues = tuple(PoolIssue(**issue) for issue in stored["issues"])
    return apply_labels(raw, stored["categories"], issues)


def _loaded_key(settings: PoolSettings, labels: ArtifactRef | None, fingerprint: str) -> tuple:
    """Where `LOADED_POOLS` files a pool: by its content (fingerprint), never by its source alone."""
    return (settings, labels, fingerprint)


def open_pool(ref: PoolRef) -> FunctionPool:
    """The pool a task runs against: loaded once per process per content, checked against the run's fingerprint."""
    key = _loaded_key(ref.settings, ref.labels, ref.fingerprint)
    pool = LOADED_POOLS.get(key)
    if pool is None:
        pool = _labelled(load_pool(ref.settings.kind, ref.settings.source, strict=ref.settings.strict), ref.labels)
        if pool.fingerprint() != ref.fingerprint:
            raise ValueError(f"pool {ref.name} changed during the run (fingerprint {pool.fingerprint()} != {ref.fingerprint})")
        LOADED_POOLS.put(key, pool)
    return pool


def prime_pool(ref: PoolRef, pool: FunctionPool) -> None:
    """Hand this process a pool another process loaded (a Dask worker gets the flow's): the same content,
    checked by fingerprint, without re-parsing and re-validating thousands of schemas."""
    if pool.fingerprint() != ref.fingerprint:
        raise ValueError(f"pool {ref.name}: the pool handed over has fingerprint {pool.fingerprint()}, not {ref.fingerprint}")
    LOADED_POOLS.put(_loaded_key(ref.settings, ref.labels, ref.fingerprint), pool)


def write_labels(path: Path, categories: dict[str, str], issues: tuple[PoolIssue, ...]) -> ArtifactRef:
    return write_json(path, {"categories": dict(sorted(categories.items())), "issues": [asdict(i) for i in issues]})


def describe_pool(settings: PoolSettings, labels: ArtifactRef | None = None) -> PoolRef:
    """Loads the pool afresh (a changed file is seen) and remembers it under its fingerprint for `open_pool`."""
    raw = load_pool(settings.kind, settings.source, strict=settings.strict)
    pool = _labelled(raw, labels)
    LOADED_POOLS.put(_loaded_key(settings, labels, pool.fingerprint()), pool)
    return PoolRef(settings=settings, name=pool.name, fingerprint=pool.fingerprint(), functions=len(pool.specs),
                   simulated=pool.simulated, issues=tuple(str(issue) for issue in pool.issues),
                   unlabelled=len(unlabelled(raw)), labels=labels)
