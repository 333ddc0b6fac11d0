"""A backend session over MCP servers: one server process (or HTTP session) per tool class per scenario.

The session builds the scenario's working state in a fresh temporary root, starts the servers it needs in
parallel, and turns each call's `CallToolResult` into what the executor expects: structured content (or
the text, parsed when it is JSON) on success, `{"error": text}` for `isError`, and an `McpCallError`
carrying a reason and an error kind when the server crashes, hangs, answers too much or cannot start.
Closing (or garbage collection, or interpreter exit) stops every server and removes the root.

Probing (`roles/probe.py` deep-copies a session to try candidate calls) is supported for servers whose
state lives on disk only: the probe snapshots the class's working directory, calls the real server and
restores the directory, so the scenario never sees a probe's writes. Unknown servers may keep state in
memory; they are not probed.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp_types as types

from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import CallErrorKind
from magnet_core.execution.backends import BackendSession
from magnet_core.execution.mcp_connection import McpCallError, ServerConnection, ServerTarget
from magnet_core.execution.mcp_loop import mcp_loop, run_on_loop
from magnet_core.execution.mcp_workspace import (
    GIT_ENV, MEMORY_FILE, NONDETERMINISTIC, PROFILES, PathMap, generate_state, materialize, server_view, workdir_name,
)


@dataclass(frozen=True)
class McpLimits:
    call_timeout_s: float = 4.0
    start_timeout_s: float = 30.0
    max_output_bytes: int = 1_000_000
    max_listing_bytes: int = 64 << 20

    @property
    def max_message_bytes(self) -> int:
        """A result message carries the output twice at most (text and structured content) plus framing."""
        return 2 * self.max_output_bytes + 65536


@dataclass(frozen=True)
class ServerDef:
    """One server of a pool: how to start it, and what working state it needs (`profile`)."""

    tool_class: str
    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    profile: str | None = None
    command_name: str = ""

    @property
    def deterministic(self) -> bool:
        return self.command_name not in NONDETERMINISTIC

    def target(self, directory: Path) -> ServerTarget:
        """The concrete start for one scenario: `{workdir}` and the profile's needs point into `directory`."""
        if self.url:
            return ServerTarget(url=self.url)
        where = str(directory)
        argv = [arg.replace("{workdir}", where) for arg in self.argv]
        env = {key: value.replace("{workdir}", where) for key, value in self.env.items()}
        if self.profile == "git":
            env = {**GIT_ENV, "HOME": where, **env}
        elif self.profile == "filesystem" and len(argv) == 1:
            argv.append(where)
        elif self.profile == "memory":
            env.setdefault("MEMORY_FILE_PATH", str(directory / MEMORY_FILE))
        return ServerTarget(argv=tuple(argv), env=env, cwd=where)


def close_all(connections: list[ServerConnection]) -> None:
    async def _close() -> None:
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)

    if threading.current_thread().name == "magnet-mcp-loop":
        asyncio.ensure_future(_close(), loop=mcp_loop())
    else:
        run_on_loop(_close(), timeout_s=30)


class McpBackendSession(BackendSession):
    def __init__(self, specs: list[FunctionSpec], servers: dict[str, ServerDef], initial_state: dict[str, Any],
                 limits: McpLimits):
        super().__init__(specs)
        self.limits = limits
        self.root = Path(tempfile.mkdtemp(prefix="magnet-mcp-")).resolve()
        self.paths = PathMap(self.root)
        self.servers = {c: servers[c] for c in sorted({spec.tool_class for spec in self.specs.values()})}
        self.states = {c: initial_state.get(c) or generate_state(s.profile, 0) for c, s in self.servers.items()}
        self._connections: dict[str, ServerConnection] = {}
        self._failed: dict[str, str] = {}
        self._probe_lock = threading.Lock()
        self._start_lock = threading.RLock()
        self._finalizer = weakref.finalize(self, _cleanup, self._connections, self.root)
        for tool_class, state in self.states.items():
            materialize(state, self.root / workdir_name(tool_class))

    def start(self, tool_classes: list[str] | None = None) -> None:
        """Start servers now, in parallel (default: all); otherwise each starts on its first call, so a
        sample that never calls a class (irrelevance) never pays for its server."""
        async def _open(tool_class: str) -> None:
            server = self.servers[tool_class]
            connection = ServerConnection(server.target(self.root / workdir_name(tool_class)), self.limits.max_message_bytes)
            self._connections[tool_class] = connection
            try:
                await connection.open(self.limits.start_timeout_s)
            except McpCallError as error:
                self._failed[tool_class] = error.reason

        async def _open_all(wanted: list[str]) -> None:
            await asyncio.gather(*(_open(c) for c in wanted))

        with self._start_lock:
            run_on_loop(_open_all([c for c in (tool_classes or list(self.servers)) if c not in self._connections]))

    def _connection(self, tool_class: str) -> ServerConnection:
        with self._start_lock:  # a call racing a start (probe thread vs executor thread) waits for the handshake
            if tool_class not in self._connections:
                self.start([tool_class])
        if tool_class in self._failed:
            raise McpCallError(f"server {tool_class} did not start: {self._failed[tool_class]}")
        return self._connections[tool_class]

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self._connections.values() if c.pid is not None]

    def invoke(self, name: str, arguments: dict[str, Any]) -> Any:
        connection = self._connection(self.specs[name].tool_class)
        timeout = self.limits.call_timeout_s
        result = run_on_loop(connection.call_tool(name, self.paths.inward(arguments), timeout), timeout_s=timeout + 15)
        return self.paths.outward(result_output(result, self.limits.max_output_bytes))

    def state(self) -> dict[str, Any]:
        return {c: server_view(state, c) for c, state in self.states.items()}

    def close(self) -> None:
        self._finalizer()

    def __deepcopy__(self, memo: dict) -> BackendSession:
        probeable = all(PROFILES.get(s.profile or "", False) and not s.url for s in self.servers.values())
        if not probeable:
            raise TypeError("this MCP session keeps state the factory cannot snapshot; no probing")
        self.start()  # here, not inside a probe: a probe's short time limit must not be spent on start-up
        if self._failed:
            raise TypeError(f"MCP servers failed to start: {self._failed}")
        return _ProbeView(self)

    def probe(self, name: str, arguments: dict[str, Any]) -> Any:
        """Call on the real server, then put the class's working directory back as it was."""
        directory = self.root / workdir_name(self.specs[name].tool_class)
        with self._probe_lock:
            snapshot = Path(tempfile.mkdtemp(prefix="probe-", dir=self.root)) / "copy"
            shutil.copytree(directory, snapshot, symlinks=True)
            try:
                return self.invoke(name, arguments)
            finally:
                _restore(snapshot, directory)
                shutil.rmtree(snapshot.parent, ignore_errors=True)


class _ProbeView(BackendSession):
    """What `copy.deepcopy(session)` returns: calls that leave no trace in the scenario."""

    def __init__(self, owner: McpBackendSession):
        super().__init__(list(owner.specs.values()))
        self._owner = owner

    def invoke(self, name: str, arguments: dict[str, Any]) -> Any:
        return self._owner.probe(name, arguments)

    def state(self) -> dict[str, Any]:
        return self._owner.state()


def result_output(result: types.CallToolResult, max_bytes: int) -> Any:
    """Structured content, else the text (JSON text parsed), else a description of each content item;
    `isError` becomes the BFCL-style `{"error": text}` that the executor counts as a failed call."""
    texts = [item.text for item in result.content if isinstance(item, types.TextContent)]
    if result.is_error:
        return {"error": "\n".join(texts) or "the tool reported an error without a message"}
    if result.structured_content is not None:
        output: Any = result.structured_content
    elif len(texts) == len(result.content) and texts:
        output = _maybe_json("\n".join(texts))
    else:
        output = [_describe(item) for item in result.content]
    size = len(json.dumps(output, ensure_ascii=False, default=str).encode("utf-8"))
    if size > max_bytes:
        raise McpCallError(f"output of {size} bytes exceeds the limit of {max_bytes} bytes", CallErrorKind.BACKEND_ERROR)
    return output


def _maybe_json(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def _describe(item: Any) -> Any:
    if isinstance(item, types.TextContent):
        return item.text
    data = getattr(item, "data", None)
    described = {"type": getattr(item, "type", "unknown"), "mimeType": getattr(item, "mime_type", None)}
    if isinstance(data, str):
        described["bytes"] = len(data) * 3 // 4
    return described


def _restore(snapshot: Path, directory: Path) -> None:
    for child in list(directory.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(snapshot, directory, symlinks=True, dirs_exist_ok=True)


def _cleanup(connections: dict[str, ServerConnection], root: Path) -> None:
    try:
        close_all(list(connections.values()))
    finally:
        shutil.rmtree(root, ignore_errors=True)
