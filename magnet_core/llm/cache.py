"""Persistent, content-addressed response cache: a re-run or a retried task never pays twice.

The key is a hash of everything that decides the answer (model string, messages, tools, generation
params, prompt version, sample index) and nothing else: not the endpoint, not the key, not the role's
parser. Parsing happens after the cache, so fixing a parser re-parses cached answers for free.
One JSON file per key under two levels of sharded directories, written atomically (temp file +
`os.replace`), so concurrent workers and a crash mid-write never leave a half-written entry.
Only successful responses are stored, and the stored payload holds no credentials.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from magnet_core.llm.types import LLMRequest, ModelConfig

CACHE_FORMAT = 1
_STORED_FIELDS = ("content", "tool_calls", "finish_reason", "model", "prompt_tokens", "completion_tokens", "cost_usd")


def cache_key(request: LLMRequest, model: ModelConfig) -> str:
    material = {
        "format": CACHE_FORMAT,
        "model": model.model,
        "messages": request.messages,
        "tools": request.tools,
        "params": request.params,
        "prompt_version": request.prompt_version,
        "sample_index": request.sample_index,
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._folders: set[Path] = set()

    def path_for(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """A missing or unreadable entry is a miss: the call is simply made again and rewritten."""
        try:
            with open(self.path_for(key), encoding="utf-8") as handle:
                entry = json.load(handle)
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("response"), dict):
            return None
        return entry["response"]

    def put(self, key: str, response: dict[str, Any]) -> None:
        """Written whole to a temporary file, then renamed: a reader (or a killed run) never sees half an entry."""
        payload = {"key": key, "format": CACHE_FORMAT, "response": {f: response.get(f) for f in _STORED_FIELDS}}
        path = self.path_for(key)
        if path.parent not in self._folders:  # a folder is made once per process, not once per answer
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        except FileNotFoundError:  # the folder was removed under us: make it again
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))  # one C-encoded string
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*/*.json"))
