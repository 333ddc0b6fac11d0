"""Shards: contiguous slices of a JSONL artifact, keyed by the content of their own items.

A task per item would cost Prefect 10-30 ms each and flood its history; a task per shard runs many items
(and many LLM calls) at once. A shard's key is the hash of its own lines, so when one upstream item
changes only the shard holding it recomputes.
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
    lines = _lines(ref)
    shards = []
    for index, start in enumerate(range(0, len(lines), shard_size)):
        chunk = lines[start : start + shard_size]
        digest = hashlib.sha256(b"\n".join(chunk)).hexdigest()
        shards.append(Shard(source=ref, index=index, start=start, stop=start + len(chunk), items_sha256=digest))
    return shards


def read_shard(shard: Shard, item_type: Any) -> list[Any]:
    lines = _lines(shard.source)[shard.start : shard.stop]
    chunk_sha = hashlib.sha256(b"\n".join(lines)).hexdigest()
    if chunk_sha != shard.items_sha256:
        raise ValueError(f"shard {shard.index} of {Path(shard.source.path).name} changed since it was split")
    import json

    return TypeAdapter(list[item_type]).validate_python([json.loads(line) for line in lines])
