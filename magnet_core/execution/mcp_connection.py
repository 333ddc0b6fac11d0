"""One connection to one MCP server (a stdio process under the reaper, or a streamable-HTTP session).

The official `mcp` client does the protocol (`ClientSession`); this module owns what a data factory needs
around it and the SDK's own stdio transport does not give: the server runs under `mcp_reaper.py` (its
process group dies with the factory, even on SIGKILL), a message larger than the output limit is dropped
while it streams in (a 50 MB answer never sits in memory) and fails the call, stderr is kept as a bounded
tail for crash reasons, and a call races its answer against the server's death, an oversized answer and
a time limit, so every way a server misbehaves ends as an `McpCallError` with a reason and an error kind.

All coroutines run on one event loop thread per process (`mcp_loop`); sessions call them synchronously.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.shared.message import SessionMessage

from magnet_core.domain.trajectory import CallErrorKind

REAPER = str(Path(__file__).with_name("mcp_reaper.py"))
STDERR_TAIL_BYTES = 4096
CLIENT_INFO = types.Implementation(name="magnet-factory", version="0.1.0")
INHERITED_ENV = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "TMPDIR", "NODE_PATH", "PYTHONPATH")


class McpCallError(Exception):
    """A call (or a start) that failed for a reason the executor records; `error_kind` is its category."""

    def __init__(self, reason: str, error_kind: CallErrorKind = CallErrorKind.EXCEPTION):
        super().__init__(reason)
        self.reason = reason
        self.error_kind = error_kind


@dataclass(frozen=True)
class ServerTarget:
    """How to reach a server: an argv (stdio) or a URL (streamable HTTP)."""

    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None

    def label(self) -> str:
        return self.url or " ".join(self.argv)


class ServerConnection:
    def __init__(self, target: ServerTarget, max_message_bytes: int):
        self.target = target
        self.max_message_bytes = max_message_bytes
        self.session: ClientSession | None = None
        self.server_info: types.Implementation | None = None
        self.pid: int | None = None
        self._reaped = False
        self.dead: str | None = None
        self._stderr = bytearray()
        self._stop = asyncio.Event()
        self._trouble = asyncio.Event()
        self._trouble_reason: str | None = None
        self._runner: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self, timeout_s: float) -> None:
        ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self._runner = asyncio.ensure_future(self._run(ready))
        try:
            await asyncio.wait_for(asyncio.shield(ready), timeout_s)
        except asyncio.TimeoutError:
            ready.cancel()  # nobody waits for it any more; the runner must not leave an unretrieved exception
            await self.close()
            raise McpCallError(f"server {self.target.label()!r} did not complete the MCP handshake within {timeout_s:.1f}s"
                               f"{self.stderr_hint()}", CallErrorKind.TIMEOUT) from None
        except McpCallError:
            await self.close()
            raise

    async def close(self) -> None:
        self.dead = self.dead or "connection closed"
        self._stop.set()
        if self._runner is not None and not self._runner.done():
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._runner), 5.0)
        self._kill_group()
        self.dead = self.dead or "connection closed"

    async def _run(self, ready: asyncio.Future) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                transport = self._http() if self.target.url else self._stdio()
                read, write = await stack.enter_async_context(transport)
                session = await stack.enter_async_context(ClientSession(read, write, client_info=CLIENT_INFO))
                result = await session.initialize()
                self.session, self.server_info = session, result.server_info
                ready.set_result(None)
                await self._stop.wait()
        except BaseException as error:  # noqa: BLE001 - any failure of a foreign server becomes a reason
            reason = f"{type(error).__name__}: {error}"
            self._flag(f"connection failed: {reason}")
            if not ready.done():
                ready.set_exception(McpCallError(f"cannot start MCP server {self.target.label()!r}: {reason}{self.stderr_hint()}"))
            if isinstance(error, asyncio.CancelledError):
                raise
        finally:
            self._flag(self.dead or "connection closed")

    # -- calls -------------------------------------------------------------------------------------
    async def list_tools(self, timeout_s: float) -> list[types.Tool]:
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(1000):
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await self._guarded(self._session().list_tools(params=params), timeout_s, "tools/list")
            tools += page.tools
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def call_tool(self, name: str, arguments: dict[str, Any], timeout_s: float) -> types.CallToolResult:
        return await self._guarded(self._session().call_tool(name, arguments), timeout_s, name)

    async def _guarded(self, request: Any, timeout_s: float, label: str) -> Any:
        """Await `request` unless the server dies, answers too much, or says nothing for `timeout_s`."""
        async with self._lock:
            if self.dead:
                request.close()
                raise McpCallError(f"server unavailable: {self.dead}")
            self._trouble, self._trouble_reason = asyncio.Event(), None
            task = asyncio.ensure_future(request)
            trouble = asyncio.ensure_future(self._trouble.wait())
            done, _ = await asyncio.wait({task, trouble}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
            trouble.cancel()
            if task in done:
                error = task.exception()
                if error is None:
                    return task.result()
                raise McpCallError(f"{label}: {type(error).__name__}: {error}{self.stderr_hint()}")
            task.cancel()
            if trouble in done:
                reason = self._trouble_reason or "server failed"
                kind = CallErrorKind.BACKEND_ERROR if reason.startswith("output") else CallErrorKind.EXCEPTION
                raise McpCallError(f"{label}: {reason}", kind)
            self.dead = f"stopped after {label} gave no answer within {timeout_s:.1f}s"
            await self.close()
            raise McpCallError(f"{label}: no answer within {timeout_s:.1f}s; the server was stopped", CallErrorKind.TIMEOUT)

    def _session(self) -> ClientSession:
        if self.session is None:
            raise McpCallError(f"server unavailable: {self.dead or 'not started'}")
        return self.session

    def _flag(self, reason: str) -> None:
        if self._trouble_reason is None:
            self._trouble_reason = reason
        self._trouble.set()

    def stderr_hint(self) -> str:
        tail = self._stderr.decode("utf-8", "replace").strip()
        return f" [server stderr: ...{tail[-600:]}]" if tail else ""

    # -- transports ------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _http(self):
        from mcp.client.streamable_http import streamable_http_client

        async with streamable_http_client(self.target.url, max_sse_event_size=self.max_message_bytes) as streams:
            yield streams

    @contextlib.asynccontextmanager
    async def _stdio(self):
        env = {key: os.environ[key] for key in INHERITED_ENV if key in os.environ} | self.target.env
        argv = [sys.executable, "-I", "-S", REAPER, str(os.getpid()), *self.target.argv]
        process = await anyio.open_process(argv, env=env, cwd=self.target.cwd, start_new_session=True)
        self.pid = process.pid
        read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](16)
        write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](16)
        stderr_done = anyio.Event()
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._read_stdout, process, read_writer, stderr_done)
                group.start_soon(self._write_stdin, process, write_reader)
                group.start_soon(self._drain_stderr, process, stderr_done)
                try:
                    yield read_stream, write_stream
                finally:
                    group.cancel_scope.cancel()
        finally:
            await self._stop_process(process)
            for stream in (read_stream, write_stream, read_writer, write_reader):
                stream.close()

    async def _read_stdout(self, process: Any, sink: Any, stderr_done: anyio.Event) -> None:
        """Newline-delimited JSON-RPC; a line over the limit is skipped as it streams and flagged."""
        buffer = bytearray()
        discarding = False
        try:
            async for chunk in process.stdout:
                start = 0
                while True:
                    end = chunk.find(b"\n", start)
                    piece = chunk[start:] if end < 0 else chunk[start:end]
                    if not discarding:
                        buffer += piece
                        if len(buffer) > self.max_message_bytes:
                            buffer.clear()
                            discarding = True
                            self._flag(f"output larger than {self.max_message_bytes} bytes; answer dropped")
                    if end < 0:
                        break
                    if not discarding and buffer.strip():
                        await sink.send(_parse(bytes(buffer)))
                    buffer.clear()
                    discarding = False
                    start = end + 1
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError):
            pass
        finally:
            with anyio.move_on_after(1.0, shield=True):
                await stderr_done.wait()
            self.dead = self.dead or f"server process ended{self.stderr_hint()}"
            self._flag(self.dead)
            sink.close()

    async def _write_stdin(self, process: Any, source: Any) -> None:
        try:
            async for message in source:
                data = message.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
                await process.stdin.send(data.encode("utf-8"))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            self._flag("server stopped reading its input")

    async def _drain_stderr(self, process: Any, done: anyio.Event) -> None:
        try:
            async for chunk in process.stderr:
                self._stderr += chunk
                del self._stderr[:-STDERR_TAIL_BYTES]
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        finally:
            done.set()

    async def _stop_process(self, process: Any) -> None:
        """SIGTERM the supervisor (it kills and reaps the server's group), SIGKILL it if it lingers."""
        with anyio.CancelScope(shield=True):
            self._signal(signal.SIGTERM)
            with anyio.move_on_after(2.0):
                await process.wait()
                self._reaped = True
            if not self._reaped:
                self._signal(signal.SIGKILL)  # the server dies with it (its parent-death signal)
                with anyio.move_on_after(2.0):
                    await process.wait()
                    self._reaped = True

    def _kill_group(self) -> None:
        """Last resort when the transport could not stop the process itself."""
        self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        if self.pid is not None and not self._reaped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, number)


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as error:
        return error
