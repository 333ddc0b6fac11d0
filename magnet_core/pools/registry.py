"""One entry point for every pool kind, so the CLI, flows and tests load pools the same way."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from magnet_core.pools.base import FunctionPool
from magnet_core.pools.bfcl import load_bfcl_pool
from magnet_core.pools.openai_json import load_openai_json_pool
from magnet_core.pools.python_pool import load_python_pool

POOL_KINDS: dict[str, Callable[..., FunctionPool]] = {
    "bfcl": load_bfcl_pool,
    "openai-json": load_openai_json_pool,
    "python": load_python_pool,
    "mcp": lambda source, strict=False: _lazy("mcp", "load_mcp_pool")(source, strict=strict),
    "mixed": lambda source, strict=False: _lazy("mixed", "load_mixed_pool")(source, strict=strict),
}


def _lazy(module: str, name: str) -> Callable[..., FunctionPool]:
    """Pool kinds with heavy imports (the `mcp` client) load on first use, not with every `magnet` command."""
    return getattr(importlib.import_module(f"magnet_core.pools.{module}"), name)


def load_pool(kind: str, source: str | None = None, strict: bool = False) -> FunctionPool:
    """`source`: BFCL class list (optional), a JSON/JSONL path, `module[:Class]`, MCP servers (`cmd; url`),
    or `kind=source | kind=source` for a mixed pool."""
    if kind not in POOL_KINDS:
        raise ValueError(f"unknown pool kind {kind!r}; choose one of {sorted(POOL_KINDS)}")
    if kind != "bfcl" and not source:
        raise ValueError(f"pool kind {kind!r} needs a source")
    return POOL_KINDS[kind](source, strict=strict) if kind != "bfcl" else load_bfcl_pool(source, strict=strict)
