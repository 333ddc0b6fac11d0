"""Prompts are versioned data: one Markdown file per role, part of every LLM cache key.

A prompt file starts with a front-matter block:

    ---
    role: query_writer
    version: 3
    ---
    (prompt text, with {placeholders} filled by str.format_map)

Changing the text without bumping `version` still changes `Prompt.sha`, and the cache key uses both, so a
stale cached answer can never be served for an edited prompt.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_FRONT = re.compile(r"^---\n(.*?)\n---\n(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Prompt:
    role: str
    version: str
    text: str

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]

    @property
    def cache_tag(self) -> str:
        return f"{self.role}@v{self.version}#{self.sha}"

    def render(self, **values: object) -> str:
        return self.text.format_map(values)


@lru_cache(maxsize=None)
def load_prompt(role: str) -> Prompt:
    raw = resources.files(__name__).joinpath(f"{role}.md").read_text(encoding="utf-8")
    match = _FRONT.match(raw)
    if not match:
        raise ValueError(f"prompt {role}.md lacks its front-matter (role, version)")
    meta = dict(line.split(":", 1) for line in match.group(1).splitlines() if ":" in line)
    meta = {key.strip(): value.strip() for key, value in meta.items()}
    if meta.get("role") != role or "version" not in meta:
        raise ValueError(f"prompt {role}.md: front-matter must name role {role!r} and a version")
    return Prompt(role=role, version=meta["version"], text=match.group(2).strip() + "\n")
