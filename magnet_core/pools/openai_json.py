"""A JSON / JSONL file of OpenAI-style tool definitions. No implementations: calls are simulated.

Accepted shapes: a JSON list of tools or `{"tools": [...]}` (.json), or one tool per line (.jsonl). A tool is
`{"type": "function", "function": {...}}` or the bare function object; optional extension keys
`response`, `category` and `tool_class` are kept.

Where the file lives is not part of the pool: its name and every spec's `source_pool` come from what it
offers (its tool classes), so the same tools copied or renamed give the same fingerprint, the same sample
metadata and so the same dataset version. The path stays in `source` (run info, messages), never in data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.execution.backends import BackendSession, SimulatedBackendSession
from magnet_core.pools.base import FunctionPool, PoolIssue, PoolLoadError, SpecCollector, pool_name
from magnet_core.pools.entries import spec_from_raw

MAX_FILE_BYTES = 256 * 1024 * 1024
KIND = "openai-json"


def load_openai_json_pool(source: str, strict: bool = False) -> FunctionPool:
    path = Path(source)
    if not path.is_file():
        raise PoolLoadError(source, [PoolIssue(source, "file not found")])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PoolLoadError(source, [PoolIssue(source, f"file larger than {MAX_FILE_BYTES} bytes")])
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise PoolLoadError(source, [PoolIssue(f"{source}@byte{error.start}", "file is not valid UTF-8")]) from None
    collector = SpecCollector(source)
    entries = _entries(text, path.name, collector.issues, lines=path.suffix.lower() in (".jsonl", ".ndjson"))
    for location, raw in entries:
        collector.add(spec_from_raw(raw, location, source_pool=KIND, executable=False), location)
    specs, issues = collector.finish(strict)
    return FunctionPool(
        name=pool_name(KIND, specs),
        kind=KIND,
        source=str(path),
        specs=specs,
        session_factory=_simulated_session,
        issues=issues,
        simulated=True,
    )


def _simulated_session(specs: list[FunctionSpec], initial_state: dict[str, Any]) -> BackendSession:
    return SimulatedBackendSession(specs)


def _entries(text: str, label: str, issues: list[PoolIssue], lines: bool) -> list[tuple[str, Any]]:
    if not lines:
        try:
            decoded = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            issues.append(PoolIssue(label, f"invalid JSON: {error}"))
            return []
        if isinstance(decoded, dict) and isinstance(decoded.get("tools"), list):
            decoded = decoded["tools"]
        if isinstance(decoded, dict):
            decoded = [decoded]
        if not isinstance(decoded, list):
            issues.append(PoolIssue(label, "top level must be a list of tools or {'tools': [...]}"))
            return []
        return [(f"{label}[{index}]", raw) for index, raw in enumerate(decoded)]
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append((f"{label}:{number}", json.loads(line)))
        except (json.JSONDecodeError, RecursionError) as error:
            issues.append(PoolIssue(f"{label}:{number}", f"invalid JSON: {error}"))
    return entries

