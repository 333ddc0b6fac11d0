"""Read a dataset version back: as `datasets.Dataset`s for TRL, or as domain objects.

`load_sft_dataset` gives `messages` (tool-call `arguments` as objects, the form Qwen2.5-style chat
templates render) and `tools`; `load_preference_dataset` gives `prompt`, `chosen`, `rejected` and
`tools`. Both come through `datasets.load_dataset("parquet", ...)`, whose `Json` features return the
stored objects exactly, with no null-filled keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pyarrow.parquet as pq

from magnet_core.dataset.parquet_io import MANIFEST, is_version_dir, table_schema
from magnet_core.dataset.rows import pair_from_row, trajectory_from_row
from magnet_core.domain import PreferencePair, Trajectory

SFT_COLUMNS = ("messages", "tools")
PREFERENCE_COLUMNS = ("prompt", "chosen", "rejected", "tools")


class DatasetVersionError(ValueError):
    pass


def _checked(version_dir: str | Path) -> Path:
    path = Path(version_dir)
    if not is_version_dir(path):
        raise DatasetVersionError(f"{path} is not a complete dataset version (no {MANIFEST}, or a temporary directory)")
    return path


def _load(version_dir: str | Path, table: str, columns: Sequence[str] | None):
    import datasets

    path = _checked(version_dir)
    files = sorted((path / table).glob("*.parquet"))
    if sum(pq.ParquetFile(file).metadata.num_rows for file in files) == 0:
        # `load_dataset` refuses a split without rows ("corresponds to no data"); the schema still holds.
        features = datasets.Features.from_arrow_schema(table_schema(table))
        dataset = datasets.Dataset.from_dict({name: [] for name in features}, features=features)
    else:
        dataset = datasets.load_dataset("parquet", data_files=[str(file) for file in files], split="train")
    if columns is not None:
        dataset = dataset.select_columns(list(columns))
    return dataset


def load_sft_dataset(version_dir: str | Path, columns: Sequence[str] | None = SFT_COLUMNS):
    """What `trl.SFTTrainer(train_dataset=...)` takes; pass `columns=None` to keep id/category/metadata."""
    return _load(version_dir, "sft", columns)


def load_preference_dataset(version_dir: str | Path, columns: Sequence[str] | None = PREFERENCE_COLUMNS):
    """What `trl.DPOTrainer(train_dataset=...)` takes (conversational prompt/chosen/rejected + tools)."""
    return _load(version_dir, "preference", columns)


def _rows(version_dir: str | Path, table: str) -> list[dict]:
    path = _checked(version_dir)
    rows: list[dict] = []
    for file in sorted((path / table).glob("*.parquet")):
        rows.extend(pq.read_table(file).to_pylist())
    return rows


def read_trajectories(version_dir: str | Path) -> list[Trajectory]:
    return [trajectory_from_row(row) for row in _rows(version_dir, "sft")]


def read_preference_pairs(version_dir: str | Path) -> list[PreferencePair]:
    return [pair_from_row(row) for row in _rows(version_dir, "preference")]


def read_rejects(version_dir: str | Path) -> list[dict]:
    return _rows(version_dir, "rejects")
