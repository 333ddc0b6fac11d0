"""Fixtures of the MCP tests: the project's fault server, the reference servers, and process checks.

Server start-up costs about a second each on a busy machine, so pools are loaded once per session and
scenarios stay small."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from magnet_core.execution.mcp_session import McpLimits

REPO = Path(__file__).resolve().parents[2]
FAULT_SERVER = REPO / "magnet_core" / "execution" / "mcp_fault_server.py"
FAULT_SOURCE = f"python {FAULT_SERVER} --state {{workdir}}"
REFERENCE_SOURCE = "mcp-server-git; npx -y @modelcontextprotocol/server-filesystem; mcp-server-memory"
FAST_LIMITS = McpLimits(call_timeout_s=1.5, start_timeout_s=30.0, max_output_bytes=1_000_000)


@pytest.fixture(scope="session")
def fault_pool():
    from magnet_core.pools.mcp import load_mcp_pool

    return load_mcp_pool(FAULT_SOURCE, limits=FAST_LIMITS)


@pytest.fixture(scope="session")
def reference_pool():
    from magnet_core.pools.mcp import load_mcp_pool

    return load_mcp_pool(REFERENCE_SOURCE)


def alive(pid: int) -> bool:
    """Running (zombies are dead: only their exit status is left)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def reapers_of(parent: int) -> list[int]:
    """Live reaper processes whose factory is `parent` (its pid is the reaper's first argument)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 5 and argv[3].endswith(b"mcp_reaper.py") and argv[4] == str(parent).encode() and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_until_gone(pids: list[int], deadline_s: float = 20.0) -> list[int]:
    """The pids still running once they are all gone or the deadline passes (process exit is
    asynchronous: this waits for a condition, it asserts nothing about timing)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        left = [pid for pid in pids if alive(pid)]
        if not left:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


@pytest.fixture(scope="session")
def fault_source() -> str:
    return FAULT_SOURCE


@pytest.fixture(scope="session")
def reference_source() -> str:
    return REFERENCE_SOURCE


@pytest.fixture(scope="session")
def procs():
    """Process helpers for the tests (conftest modules are not importable under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(alive=alive, reapers_of=reapers_of, wait_until_gone=wait_until_gone)
