"""MCP servers as an executable pool: every tool of every listed server, every call run by the server.

`source` names one or more servers separated by `;` or newlines: a stdio command line
(`mcp-server-git`, `MEMORY_FILE_PATH={workdir}/kg.jsonl node server.js`, `python -m my_tools`,
`npx -y @modelcontextprotocol/server-filesystem`) or a streamable-HTTP URL. Tools are listed through the
official `mcp` client (name, description, input schema, output schema); an entry whose schema cannot be
normalised or whose name another tool already uses is reported like in every pool. The server's declared
name becomes the tool class (a tool's `_meta.category` its category). Loading starts each server once on
a throw-away working state; scenarios get their own servers (`execution/mcp_session.py`).
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.execution.backends import BackendSession
from magnet_core.execution.mcp_connection import McpCallError, ServerConnection
from magnet_core.execution.mcp_loop import run_on_loop
from magnet_core.execution.mcp_session import McpBackendSession, McpLimits, ServerDef
from magnet_core.execution.mcp_workspace import KNOWN_COMMANDS, generate_state, materialize, workdir_name
from magnet_core.pools.base import FunctionPool, PoolIssue, PoolLoadError, SpecCollector
from magnet_core.pools.entries import spec_from_raw

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NODE_TOOLS = Path(os.environ.get("MAGNET_MCP_NODE_DIR", PROJECT_ROOT / "tools" / "mcp-servers")) / "node_modules"
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_CLASS_CHARS = re.compile(r"[^A-Za-z0-9_\-]+")


def default_limits() -> McpLimits:
    """Limits from the environment (`MAGNET_MCP_CALL_TIMEOUT_S`, `MAGNET_MCP_MAX_OUTPUT_BYTES`), so a
    pipeline config that only names `kind` and `source` can still tune them."""
    base = McpLimits()
    return McpLimits(call_timeout_s=float(os.environ.get("MAGNET_MCP_CALL_TIMEOUT_S", base.call_timeout_s)),
                     start_timeout_s=float(os.environ.get("MAGNET_MCP_START_TIMEOUT_S", base.start_timeout_s)),
                     max_output_bytes=int(os.environ.get("MAGNET_MCP_MAX_OUTPUT_BYTES", base.max_output_bytes)))


def parse_server(entry: str) -> ServerDef:
    """One source entry -> a server definition with a resolved executable (tool class filled in later)."""
    entry = entry.strip()
    if re.match(r"^https?://", entry):
        return ServerDef(tool_class="", url=entry, command_name=entry)
    tokens = shlex.split(entry)
    env: dict[str, str] = {}
    while tokens and _ENV_ASSIGNMENT.match(tokens[0]):
        key, _, value = tokens.pop(0).partition("=")
        env[key] = value
    if not tokens:
        raise ValueError(f"no command in {entry!r}")
    command_name = Path(tokens[0]).name
    if tokens[0] == "npx":
        command_name, tokens = _local_npm_bin([t for t in tokens[1:] if t not in ("-y", "--yes")])
    executable = sys.executable if command_name in ("python", "python3") else _which(tokens[0])
    if executable is None:
        raise ValueError(f"command {tokens[0]!r} not found (looked in the factory's environment, {NODE_TOOLS / '.bin'} and PATH)")
    profile = KNOWN_COMMANDS.get(command_name)
    if profile is None and any("{workdir}" in text for text in [*tokens, *env.values()]):
        profile = "workdir"
    return ServerDef(tool_class="", argv=(executable, *tokens[1:]), env=env, profile=profile, command_name=command_name)


def split_servers(source: str) -> list[str]:
    """Entries separated by `;` or newlines outside quotes (`python -c 'a; b'` is one entry)."""
    entries, current, quote = [], [], ""
    for char in source:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in ";\n":
            entries.append("".join(current))
            current = []
            continue
        current.append(char)
    entries.append("".join(current))
    return [entry.strip() for entry in entries if entry.strip()]


def load_mcp_pool(source: str, strict: bool = False, limits: McpLimits | None = None) -> FunctionPool:
    limits = limits or default_limits()
    entries = split_servers(source)
    if not entries:
        raise PoolLoadError(source, [PoolIssue(source, "no MCP server given")])
    collector = SpecCollector(source)
    servers: dict[str, ServerDef] = {}
    owners: dict[str, str] = {}
    listed = _list_servers(entries, limits)
    for index, (entry, outcome) in enumerate(zip(entries, listed)):
        if isinstance(outcome, str):
            collector.refuse(f"server[{index}] {entry}", outcome)
            continue
        server, declared, tools = outcome
        tool_class = _unique(declared, servers)
        servers[tool_class] = ServerDef(**{**server.__dict__, "tool_class": tool_class})
        for position, tool in enumerate(tools):
            _add_tool(collector, tool, f"{tool_class}.tools[{position}]", tool_class, owners)
    specs, issues = collector.finish(strict)
    if not servers:
        raise PoolLoadError(source, list(issues) or [PoolIssue(source, "no server could be listed")])

    def factory(chosen: list[FunctionSpec], initial_state: dict[str, Any]) -> BackendSession:
        return McpBackendSession(chosen, servers, initial_state, limits)

    def state_factory(tool_classes: list[str], seed: int) -> dict[str, Any]:
        states = {c: generate_state(servers[c].profile, seed) for c in tool_classes if c in servers}
        return {c: state for c, state in states.items() if state}

    name = "+".join(sorted(servers)) if len(servers) <= 3 else f"mcp-{len(servers)}-servers"
    return FunctionPool(name=name, kind="mcp", source=source, specs=specs, session_factory=factory, issues=issues,
                        state_factory=state_factory)


def _list_servers(entries: list[str], limits: McpLimits) -> list[tuple[ServerDef, str, list[Any]] | str]:
    """Start every server once (in parallel) on a throw-away state and list its tools; a failure is a reason."""
    with tempfile.TemporaryDirectory(prefix="magnet-mcp-list-") as root:
        async def _one(index: int, entry: str) -> tuple[ServerDef, str, list[Any]] | str:
            try:
                server = parse_server(entry)
            except ValueError as error:
                return str(error)
            directory = Path(root) / str(index)
            materialize(generate_state(server.profile, 0), directory)
            connection = ServerConnection(server.target(directory), limits.max_listing_bytes)
            try:
                await connection.open(limits.start_timeout_s)
                tools = await connection.list_tools(limits.call_timeout_s * 4)
            except McpCallError as error:
                return error.reason
            finally:
                await connection.close()
            declared = connection.server_info.name if connection.server_info else ""
            return server, _CLASS_CHARS.sub("_", declared or server.command_name).strip("_") or "mcp_server", tools

        async def _all() -> list[Any]:
            return list(await asyncio.gather(*(_one(i, e) for i, e in enumerate(entries))))

        return run_on_loop(_all())


def _add_tool(collector: SpecCollector, tool: Any, location: str, tool_class: str, owners: dict[str, str]) -> None:
    meta = tool.meta or {}
    raw = {"name": tool.name, "description": tool.description or tool.title or "", "parameters": tool.input_schema}
    if tool.output_schema is not None:
        raw["response"] = tool.output_schema
    category = meta.get("category") if isinstance(meta.get("category"), str) else tool_class
    result = spec_from_raw(raw, location, source_pool=f"mcp:{tool_class}", tool_class=tool_class, category=category)
    if isinstance(result, FunctionSpec) and result.name in owners and owners[result.name] != tool_class:
        # Sessions offer tools by bare name: two servers with one tool name cannot share a scenario.
        collector.refuse(location, f"duplicate name (server {owners[result.name]} already has a tool {result.name!r})", result.name)
        return
    if isinstance(result, FunctionSpec):
        owners.setdefault(result.name, tool_class)
    collector.add(result, location)


def _unique(tool_class: str, taken: dict[str, ServerDef]) -> str:
    candidate, number = tool_class, 2
    while candidate in taken:
        candidate, number = f"{tool_class}_{number}", number + 1
    return workdir_name(candidate)


def _which(command: str) -> str | None:
    search = os.pathsep.join([str(Path(sys.executable).parent), str(NODE_TOOLS / ".bin"), os.environ.get("PATH", "")])
    return shutil.which(command, path=search)


def _local_npm_bin(tokens: list[str]) -> tuple[str, list[str]]:
    """`npx PKG ARGS` -> the project-local install of PKG (no network, and no npx process in between)."""
    if not tokens:
        raise ValueError("npx without a package")
    package = tokens[0].rsplit("@", 1)[0] if tokens[0].count("@") > (1 if tokens[0].startswith("@") else 0) else tokens[0]
    manifest = NODE_TOOLS / package / "package.json"
    if not manifest.is_file():
        raise ValueError(f"npm package {package!r} is not installed under {NODE_TOOLS} (add it to tools/mcp-servers/package.json)")
    import json

    bins = json.loads(manifest.read_text(encoding="utf-8")).get("bin")
    name, script = (package.rsplit("/", 1)[-1], bins) if isinstance(bins, str) else next(iter((bins or {}).items()), ("", None))
    if script is None:
        raise ValueError(f"npm package {package!r} declares no executable")
    return name, [str((manifest.parent / script).resolve()), *tokens[1:]]
