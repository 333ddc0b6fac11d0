"""What stage tasks return: small refs and counts, never the items themselves."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from magnet_core.llm.types import ModelConfig
from magnet_core.pools import load_pool
from magnet_core.pools.base import FunctionPool
from tasks.llm_usage import ShardUsage
from tasks.refs import ArtifactRef


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
    labeller: ModelConfig | None = None  # fills missing categories (the category_labeller role)
    cache_dir: str | None = None  # the labeller's LLM response cache: every task relabels for free

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

    def key_fields(self) -> dict:
        return {"stage": self.stage, "key": self.key}


@lru_cache(maxsize=8)
def _load(settings: PoolSettings, labeller: ModelConfig | None = None, cache_dir: str | None = None) -> FunctionPool:
    pool = load_pool(settings.kind, settings.source, strict=settings.strict)
    if labeller is None:
        return pool
    from magnet_core.llm.client import LLMClient
    from magnet_core.pools.labelling import label_pool

    return label_pool(pool, LLMClient(cache_dir=Path(cache_dir) if cache_dir else None), labeller)


def open_pool(ref: PoolRef) -> FunctionPool:
    """The pool a task runs against, loaded once per process and checked against the run's fingerprint."""
    pool = _load(ref.settings, ref.labeller, ref.cache_dir)
    if pool.fingerprint() != ref.fingerprint:
        raise ValueError(f"pool {ref.name} changed during the run (fingerprint {pool.fingerprint()} != {ref.fingerprint})")
    return pool


def describe_pool(settings: PoolSettings, labeller: ModelConfig | None = None, cache_dir: str | None = None) -> PoolRef:
    pool = _load(settings, labeller, cache_dir)
    return PoolRef(settings=settings, name=pool.name, fingerprint=pool.fingerprint(), functions=len(pool.specs),
                   simulated=pool.simulated, issues=tuple(str(issue) for issue in pool.issues), labeller=labeller,
                   cache_dir=cache_dir)
