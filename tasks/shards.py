"""Shards: contiguous slices of a JSONL artifact, keyed by the content of their own items.

A task per item would cost Prefect 10-30 ms each and flood its history; a task per shard runs many items
(and many LLM calls) at once. A shard's key is the hash of its own lines, so when one upstream item
changes only the shard holding it recomputes. A shard also records where its lines lie in the file, so
reading it costs its own bytes, not the whole file (one shard of thousands must not re-read them all).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from tasks.refs import ArtifactRef, read_verified


class Shard(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: ArtifactRef
    index: int = Field(ge=0)
    start: int = Field(ge=0)
    stop: int = Field(ge=0)
    items_sha256: str
    byte_start: int | None = Field(None, ge=0, description="Offset of the first line in the source file")
    byte_stop: int | None = Field(None, ge=0, description="Offset just past the last line (its newline excluded)")

    @property
    def size(self) -> int:
        return self.stop - self.start

    def key_fields(self) -> dict[str, Any]:
        return {"items_sha256": self.items_sha256, "size": self.size}


def _lines(ref: ArtifactRef) -> list[bytes]:
    if ref.kind != "jsonl":
        raise ValueError(f"only jsonl artifacts can be sharded, got {ref.kind} at {ref.path}")
    return [line for line in read_verified(ref).split(b"\n") if line]


def split_into_shards(ref: ArtifactRef, shard_size: int) -> list[Shard]:
    if shard_size < 1:
        raise ValueError("shard_size must be >= 1")
    if ref.kind != "jsonl":
        raise ValueError(f"only jsonl artifacts can be sharded, got {ref.kind} at {ref.path}")
    data = read_verified(ref)
    spans, offset = [], 0  # (start, stop) byte offsets of each non-empty line
    for line in data.split(b"\n"):
        if line:
            spans.append((offset, offset + len(line)))
        offset += len(line) + 1
    shards = []
    for index, start in enumerate(range(0, len(spans), shard_size)):
        chunk = spans[start : start + shard_size]
        digest = hashlib.sha256(b"\n".join(data[a:b] for a, b in chunk)).hexdigest()
        shards.append(Shard(source=ref, index=index, start=start, stop=start + len(chunk), items_sha256=digest,
                            byte_start=chunk[0][0], byte_stop=chunk[-1][1]))
    return shards


def _shard_lines(shard: Shard) -> list[bytes]:
    if shard.byte_start is None or shard.byte_stop is None:
        return _lines(shard.source)[shard.start : shard.stop]
    with open(shard.source.path, "rb") as handle:
        handle.seek(shard.byte_start)
        data = handle.read(shard.byte_stop - shard.byte_start)
    return [line for line in data.split(b"\n") if line]


def read_shard(shard: Shard, item_type: Any) -> list[Any]:
    """The shard's items, checked against the hash taken when it was split (its own bytes only)."""
    lines = _shard_lines(shard)
    chunk_sha = hashlib.sha256(b"\n".join(lines)).hexdigest()
    if chunk_sha != shard.items_sha256 or len(lines) != shard.size:
        raise ValueError(f"shard {shard.index} of {Path(shard.source.path).name} changed since it was split")
    import json

    return TypeAdapter(list[item_type]).validate_python([json.loads(line) for line in lines])
