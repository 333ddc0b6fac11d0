"""A tiny MCP server of our own (stdio, raw JSON-RPC, no SDK: full control over every byte it sends).

Normal tools (`echo`, `add` with an output schema, `fail` answering `isError`, `counter_increment` keeping
state in its working directory) and hostile ones: `crash` dies in the middle of writing its answer, `hang`
never answers, `huge` answers with N megabytes, `spawn_child` leaves a grandchild process running (to
prove the reaper). `--hostile-schemas` adds tools whose schemas are a `$ref` cycle or name an unknown
type, and a second tool named `echo`. `--state DIR` keeps the counter in DIR (use `{workdir}`).

    python -m magnet_core.execution.mcp_fault_server --state {workdir} [--hostile-schemas]

`--http PORT_FILE` serves `echo` and `add` over streamable HTTP instead (the SDK's server, on
127.0.0.1 and a free port written to PORT_FILE), for pools whose source is a URL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
_TEXT = {"type": "object", "properties": {"text": {"type": "string", "description": "Text to send back"}}, "required": ["text"]}
_NONE: dict[str, Any] = {"type": "object", "properties": {}}
TOOLS = [
    {"name": "echo", "description": "Return the given text unchanged.", "inputSchema": _TEXT, "_meta": {"category": "text"}},
    {"name": "add", "description": "Add two numbers and return their sum.",
     "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]},
     "outputSchema": {"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]}},
    {"name": "fail", "description": "Report the given text as a tool error.", "inputSchema": _TEXT},
    {"name": "counter_increment", "description": "Increase the stored counter by the given amount and return the new value.",
     "inputSchema": {"type": "object", "properties": {"by": {"type": "integer"}}, "required": ["by"]}},
    {"name": "crash", "description": "Exit in the middle of writing the answer.", "inputSchema": _NONE},
    {"name": "hang", "description": "Never answer.", "inputSchema": _NONE},
    {"name": "huge", "description": "Answer with the given number of megabytes of text.",
     "inputSchema": {"type": "object", "properties": {"megabytes": {"type": "integer"}}, "required": ["megabytes"]}},
    {"name": "spawn_child", "description": "Start a long-running child process and return its process id.", "inputSchema": _NONE},
]
HOSTILE = [
    {"name": "cyclic", "description": "A schema whose $ref points back at itself.",
     "inputSchema": {"type": "object", "properties": {"node": {"$ref": "#/$defs/Node"}},
                     "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}}},
    {"name": "bad_type", "description": "A parameter of an unknown type.",
     "inputSchema": {"type": "object", "properties": {"x": {"type": "banana"}}}},
    {"name": "echo", "description": "A second tool with an existing name.", "inputSchema": _TEXT},
]


def _send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _text(text: str, error: bool = False) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": error}


def _call(name: str, arguments: dict[str, Any], state: Path | None, request_id: Any) -> dict[str, Any] | None:
    if name == "echo":
        return _text(str(arguments.get("text", "")))
    if name == "add":
        total = arguments["a"] + arguments["b"]
        return {"content": [{"type": "text", "text": json.dumps({"sum": total})}], "structuredContent": {"sum": total}}
    if name == "fail":
        return _text(str(arguments.get("text", "failed")), error=True)
    if name == "counter_increment":
        path = (state or Path.cwd()) / "counter.json"
        value = (json.loads(path.read_text()) if path.exists() else 0) + int(arguments["by"])
        path.write_text(json.dumps(value))
        return _text(json.dumps({"counter": value}))
    if name == "crash":
        sys.stdout.write('{"jsonrpc": "2.0", "id": ' + json.dumps(request_id) + ', "result": {"content": [{"type": "te')
        sys.stdout.flush()
        os._exit(3)
    if name == "hang":
        while True:
            time.sleep(3600)
    if name == "huge":
        _send_huge(request_id, int(arguments["megabytes"]))
        return None
    if name == "spawn_child":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        return _text(json.dumps({"pid": child.pid}))
    return _text(f"unknown tool {name}", error=True)


def _send_huge(request_id: Any, megabytes: int) -> None:
    """Stream the answer: the client must cope without us ever holding it whole."""
    out = sys.stdout
    out.write('{"jsonrpc": "2.0", "id": ' + json.dumps(request_id) + ', "result": {"content": [{"type": "text", "text": "')
    block = "x" * (1 << 20)
    for _ in range(megabytes):
        out.write(block)
    out.write('"}]}}\n')
    out.flush()


def serve_http(port_file: str) -> None:
    import anyio
    import uvicorn
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("magnet-faults-http")

    @server.tool(description="Return the given text unchanged.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Add two numbers and return their sum.")
    def add(a: float, b: float) -> dict:
        return {"sum": a + b}

    config = uvicorn.Config(server.streamable_http_app(), host="127.0.0.1", port=0, log_level="warning")
    http = uvicorn.Server(config)

    async def run() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(http.serve)
            while not http.started:
                await anyio.sleep(0.01)
            port = http.servers[0].sockets[0].getsockname()[1]
            Path(port_file).write_text(str(port))

    anyio.run(run)


def main(argv: list[str]) -> None:
    if "--http" in argv:
        serve_http(argv[argv.index("--http") + 1])
        return
    state = Path(argv[argv.index("--state") + 1]) if "--state" in argv else None
    tools = TOOLS + (HOSTILE if "--hostile-schemas" in argv else [])
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        method, request_id = message.get("method"), message.get("id")
        if request_id is None:
            continue  # notifications
        if method == "initialize":
            asked = message.get("params", {}).get("protocolVersion")
            result: Any = {"protocolVersion": asked if asked in VERSIONS else VERSIONS[-1], "capabilities": {"tools": {}},
                           "serverInfo": {"name": "magnet-faults", "version": "1.0"}}
        elif method == "tools/list":
            result = {"tools": tools}
        elif method == "tools/call":
            params = message.get("params", {})
            result = _call(params.get("name", ""), params.get("arguments") or {}, state, request_id)
            if result is None:
                continue
        elif method == "ping":
            result = {}
        else:
            _send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": f"unknown method {method}"}})
            continue
        _send({"jsonrpc": "2.0", "id": request_id, "result": result})


if __name__ == "__main__":
    main(sys.argv[1:])
