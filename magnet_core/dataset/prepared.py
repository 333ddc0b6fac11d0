"""A shard read once, where it was made: its compact records and its spilled samples, on disk.

Reading a shard (parsing its JSON), hashing, rendering, checking, keying and spilling its samples is
per-sample work that grows with the data. Done inside assembly it ran serially in one process and
dominated a scaled-out run; a prepared shard is that same pass (`intake.take_batch`) done per shard, in
whichever process runs the shard's task, written as two files: `samples.bin` (the spill: each rendered
sample, its table row with its facts, and each upstream reject's row) and `records.pkl` (the records, the content
hashes and where each object sits in `samples.bin`). Assembly and the sizing measure then merge the
records (`load_prepared`) and read back only the rows they write, so the dataset is byte for byte the
one the in-process intake writes: the same records, in the same shard order, only their handles shifted.
"""

from __future__ import annotations

import pickle
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from magnet_core.dataset.config import DedupConfig
from magnet_core.dataset.intake import Intake, take_batch
from magnet_core.dataset.records import ContaminationCheck, SampleBatch, SampleRecord
from magnet_core.dataset.spill import Spill, SpillSet
from magnet_core.gc_pause import cyclic_gc_paused

SAMPLES_FILE = "samples.bin"
RECORDS_FILE = "records.pkl"
FORMAT = 2  # 2: a sample's row and facts spilled apart from the sample


@dataclass
class PreparedShard:
    """What `records.pkl` holds; handles are local to the shard's `samples.bin`."""

    intake: Intake
    offsets: array
    lengths: array
    index_info: dict[str, Any] = field(default_factory=dict)  # the BFCL index the verdicts came from (manifest)
    format: int = FORMAT


def prepare_shard(batch: SampleBatch, directory: Path, *, mode: str, dedup: DedupConfig,
                  contamination_of: ContaminationCheck | None, index_info: dict[str, Any]) -> PreparedShard:
    """Write `directory`/{samples.bin, records.pkl} for one shard (the caller makes the directory atomic)."""
    directory.mkdir(parents=True, exist_ok=True)
    intake = Intake()
    with Spill(path=directory / SAMPLES_FILE) as spill:
        take_batch(intake, batch, mode, dedup, spill, contamination_of)
        offsets, lengths = spill.index()
    prepared = PreparedShard(intake, offsets, lengths, index_info)
    (directory / RECORDS_FILE).write_bytes(pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL))
    return prepared


def read_prepared(directory: Path) -> PreparedShard:
    prepared = pickle.loads((directory / RECORDS_FILE).read_bytes())
    if not isinstance(prepared, PreparedShard) or prepared.format != FORMAT:
        raise ValueError(f"{directory}: not a prepared shard of format {FORMAT}")
    return prepared


@dataclass
class Merged:
    """Every prepared shard's records under one handle space (`spill`), in shard order."""

    intake: Intake
    spill: SpillSet
    index_info: dict[str, Any]


def _shifted(records: list[Any], base: int) -> list[Any]:
    if base == 0:
        return records
    return [replace(record, handle=record.handle + base,
                    sample_handle=record.sample_handle + base if record.sample_handle >= 0 else -1) for record in records]


def load_prepared(directories: Iterable[Path]) -> Merged:
    """Only records are read here (a few hundred bytes per sample); samples stay in the shard files."""
    merged = Merged(Intake(), SpillSet(), {})
    with cyclic_gc_paused():
        for directory in directories:
            _merge(merged, directory)
    return merged


def _merge(merged: Merged, directory: Path) -> None:
    shard = read_prepared(directory)
    base = merged.spill.add(directory / SAMPLES_FILE, shard.offsets, shard.lengths)
    for kind in ("trajectories", "pairs"):
        records: list[SampleRecord] = getattr(merged.intake, kind)
        records += _shifted(getattr(shard.intake, kind), base)
    merged.intake.rejects += _shifted(shard.intake.rejects, base)
    for kind, hashes in shard.intake.hashes.items():
        merged.intake.hashes[kind] += hashes
    merged.index_info = merged.index_info or shard.index_info
