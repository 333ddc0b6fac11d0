"""The event loop MCP connections live on: one daemon thread per process, started on first use.

Backend sessions are synchronous (the executor calls `invoke` from a worker thread) while the `mcp`
client is async; every connection's coroutines run here and callers wait on the result. Server
processes are spawned from this thread, which lives as long as the process, so the reaper's parent-death
signal fires exactly when the factory process dies. A forked child gets its own loop (pid check).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"pid": None, "loop": None}


def mcp_loop() -> asyncio.AbstractEventLoop:
    with _LOCK:
        if _STATE["pid"] != os.getpid() or _STATE["loop"] is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="magnet-mcp-loop", daemon=True).start()
            _STATE.update(pid=os.getpid(), loop=loop)
        return _STATE["loop"]


def run_on_loop(coroutine: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
    """Run `coroutine` on the MCP loop and wait for it (never call this from the loop thread itself)."""
    return asyncio.run_coroutine_threadsafe(coroutine, mcp_loop()).result(timeout_s)
