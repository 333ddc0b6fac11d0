"""One entry point for every pool kind, so the CLI, flows and tests load pools the same way."""

from __future__ import annotations

from collections.abc import Callable

from magnet_core.pools.base import FunctionPool
from magnet_core.pools.bfcl import load_bfcl_pool
from magnet_core.pools.openai_json import load_openai_json_pool
from magnet_core.pools.python_pool import load_python_pool

POOL_KINDS: dict[str, Callable[..., FunctionPool]] = {
    "bfcl": load_bfcl_pool,
    "openai-json": load_openai_json_pool,
    "python": load_python_pool,
}


def load_pool(kind: str, source: str | None = None, strict: bool = False) -> FunctionPool:
    """`source`: BFCL class list (optional), a JSON/JSONL path, or `module[:Class]`."""
    if kind not in POOL_KINDS:
        raise ValueError(f"unknown pool kind {kind!r}; choose one of {sorted(POOL_KINDS)}")
    if kind != "bfcl" and not source:
        raise ValueError(f"pool kind {kind!r} needs a source")
    return POOL_KINDS[kind](source, strict=strict) if kind != "bfcl" else load_bfcl_pool(source, strict=strict)
