"""Parquet tables of a dataset version and the atomic write of a whole version.

JSON columns use Arrow's `json` extension type and are declared as `datasets.Json` features in the
schema's `huggingface` metadata: `datasets.load_dataset("parquet", ...)` hands back the original
objects, pandas reads the same files as JSON text, and nothing is ever merged into a struct.

A version is written under `<root>/.tmp-<version>-<random>/`, `manifest.json` last, then renamed
into place in one `os.rename`. Readers only ever see directories that have a manifest and whose
name does not start with a dot, so a crash at any point leaves no visible version.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from itertools import islice
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"

_STRING = {"dtype": "string", "_type": "Value"}
_JSON = {"_type": "Json"}

TABLE_COLUMNS: dict[str, list[tuple[str, pa.DataType, dict[str, Any]]]] = {
    "sft": [
        ("id", pa.string(), _STRING),
        ("category", pa.string(), _STRING),
        ("scenario_id", pa.string(), _STRING),
        ("offline", pa.bool_(), {"dtype": "bool", "_type": "Value"}),
        ("messages", pa.json_(), _JSON),
        ("tools", pa.json_(), _JSON),
        ("metadata", pa.json_(), _JSON),
    ],
    "preference": [
        ("id", pa.string(), _STRING),
        ("category", pa.string(), _STRING),
        ("scenario_id", pa.string(), _STRING),
        ("offline", pa.bool_(), {"dtype": "bool", "_type": "Value"}),
        ("differing_turn", pa.int64(), {"dtype": "int64", "_type": "Value"}),
        ("error_type", pa.string(), _STRING),
        ("reason", pa.string(), _STRING),
        ("prompt", pa.json_(), _JSON),
        ("chosen", pa.json_(), _JSON),
        ("rejected", pa.json_(), _JSON),
        ("tools", pa.json_(), _JSON),
        ("metadata", pa.json_(), _JSON),
    ],
    "rejects": [
        ("stage", pa.string(), _STRING),
        ("item_id", pa.string(), _STRING),
        ("reason", pa.string(), _STRING),
        ("detail", pa.string(), _STRING),
        ("payload", pa.json_(), _JSON),
    ],
}


def table_schema(table: str) -> pa.Schema:
    columns = TABLE_COLUMNS[table]
    features = {name: feature for name, _, feature in columns}
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema([pa.field(name, dtype) for name, dtype, _ in columns], metadata=metadata)


def write_table(directory: Path, table: str, rows: Iterable[dict[str, Any]], *, count: int, row_group_size: int,
                rows_per_file: int) -> list[str]:
    """Shards of at most `rows_per_file` rows; an empty table is still one file with the schema.

    `rows` is consumed one row group at a time (`count` of them in all, which names the files), so
    writing a table of any size holds one row group of rows in memory, not the table."""
    schema = table_schema(table)
    target = directory / table
    target.mkdir(parents=True, exist_ok=True)
    files = max(1, -(-count // rows_per_file))
    names = [f"{table}/train-{number:05d}-of-{files:05d}.parquet" for number in range(files)]
    iterator = iter(rows)
    written = 0
    for number, name in enumerate(names):
        in_file = min(rows_per_file, count - number * rows_per_file)
        # No row group when empty: `datasets` refuses a zero-row row group ("BatchSize must be > 0").
        with pq.ParquetWriter(directory / name, schema, compression="zstd") as writer:
            for start in range(0, max(in_file, 0), row_group_size):
                group = list(islice(iterator, min(row_group_size, in_file - start)))
                columns = {field.name: pa.array([row[field.name] for row in group], type=field.type) for field in schema}
                writer.write_table(pa.table(columns, schema=schema), row_group_size=row_group_size)
                written += len(group)
    if written != count or next(iterator, None) is not None:
        raise ValueError(f"{table}: expected {count} rows, got {'more' if written == count else written}")
    return names


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


@contextmanager
def atomic_version_dir(root: Path, version_id: str) -> Iterator[Path]:
    """Yields a private temporary directory; on success it becomes `<root>/<version_id>`."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"{TMP_PREFIX}{version_id}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        yield tmp
        if not (tmp / MANIFEST).is_file():
            raise RuntimeError("a version is complete only once its manifest is written")
        _fsync_dir(tmp)
        final = root / version_id
        try:
            os.rename(tmp, final)
        except OSError:
            if (final / MANIFEST).is_file():  # a concurrent writer produced the same version first
                shutil.rmtree(tmp, ignore_errors=True)
                return
            raise
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fsync_dir(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_version_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".") and (path / MANIFEST).is_file()


def list_versions(root: Path) -> list[Path]:
    """Complete versions, oldest first (by manifest time); temporary and manifest-less dirs are not versions."""
    if not root.is_dir():
        return []
    versions = [child for child in root.iterdir() if is_version_dir(child)]
    return sorted(versions, key=lambda p: ((p / MANIFEST).stat().st_mtime, p.name))


def read_manifest(version_dir: Path) -> dict[str, Any]:
    return json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))

