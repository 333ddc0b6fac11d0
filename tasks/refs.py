"""References to stage outputs on disk, written atomically.

Task results travel through Prefect's result store and its API; large lists of trajectories would bloat
both. So a task writes its output to a file and returns a small `ArtifactRef` (path + content hash);
the next task reads the file. Key order is kept as written (not sorted): dict order is part of a sample
(tool-call arguments, tool schemas) and the dataset's content hash sees it. Writes go to a temporary file then `os.replace`, so a run killed mid-write
never leaves a half file that a later run would take for a finished shard.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Model = TypeVar("Model", bound=BaseModel)


class ArtifactRef(BaseModel):
    """A file (or directory) a task produced. `sha256` is of the content, so it can key downstream caches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["json", "jsonl", "parquet", "dir"]
    path: str
    sha256: str = Field(min_length=16)
    count: int = Field(default=0, ge=0, description="Items inside (lines of a jsonl, rows, files)")

    def key_fields(self) -> dict[str, Any]:
        """What a cache key may depend on: the content, never the location."""
        return {"kind": self.kind, "sha256": self.sha256, "count": self.count}


class CorruptArtifactError(ValueError):
    """The file behind a ref no longer matches its hash: refuse it instead of training on it."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """In 1 MiB pieces: a dataset's Parquet files can be hundreds of MiB, and hashing one must not hold it."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, value: Any) -> ArtifactRef:
    # pydantic's own serializer is several times faster than json.dumps(model_dump()) on large results
    data = value.model_dump_json().encode() if isinstance(value, BaseModel) else json.dumps(value, ensure_ascii=False).encode()
    atomic_write_bytes(path, data)
    count = len(value) if isinstance(value, (list, tuple)) else 1
    return ArtifactRef(kind="json", path=str(path.resolve()), sha256=sha256_bytes(data), count=count)


def write_jsonl(path: Path, items: list[Any]) -> ArtifactRef:
    lines = [item.model_dump_json() if isinstance(item, BaseModel) else json.dumps(item, ensure_ascii=False)
             for item in items]
    data = ("\n".join(lines) + ("\n" if lines else "")).encode()
    atomic_write_bytes(path, data)
    return ArtifactRef(kind="jsonl", path=str(path.resolve()), sha256=sha256_bytes(data), count=len(lines))


def read_verified(ref: ArtifactRef) -> bytes:
    data = Path(ref.path).read_bytes()
    if sha256_bytes(data) != ref.sha256:
        raise CorruptArtifactError(f"{ref.path}: content changed since it was written (hash mismatch)")
    return data


def read_json(ref: ArtifactRef) -> Any:
    return json.loads(read_verified(ref))


def read_model(ref: ArtifactRef, model: type[Model]) -> Model:
    return model.model_validate_json(read_verified(ref))


def read_jsonl(ref: ArtifactRef, item_type: Any = None) -> list[Any]:
    rows = [json.loads(line) for line in read_verified(ref).decode().splitlines() if line]
    if item_type is None:
        return rows
    return TypeAdapter(list[item_type]).validate_python(rows)


def ref_for_existing(path: Path, kind: Literal["json", "jsonl", "parquet", "dir"] = "dir", count: int = 0,
                     shallow: bool = False) -> ArtifactRef:
    """Ref to an output a stage wrote itself (a dataset directory, a checkpoint): hash of every file in it.

    `shallow` hashes names, sizes and modification times instead of bytes: for user-supplied base models
    of many gigabytes, where reading every byte per run would cost more than the run.
    """
    path = path.resolve()
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
        if shallow:
            stat = file.stat()
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            digest.update(sha256_file(file).encode())
    return ArtifactRef(kind=kind, path=str(path), sha256=digest.hexdigest(), count=count or len(files))
