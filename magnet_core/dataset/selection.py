"""Which samples make the dataset: validation, decontamination, dedup and the mixture, on records.

The same steps, in the same order and the same id order, as they once ran on the samples themselves,
so the same rows are kept and every other sample becomes a reject with the same reason and detail.
The rejects of each step are kept apart (`Selection.rejects[step]`) because the rejects table lists
the SFT and preference rejects of one step before those of the next (ties in its sort keep that order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from magnet_core.dataset.config import DedupConfig, MixtureRow, MixtureTarget
from magnet_core.dataset.dedup import STAGE as DEDUP_STAGE
from magnet_core.dataset.dedup import deduplicate_keys
from magnet_core.dataset.mixture import STAGE as MIXTURE_STAGE
from magnet_core.dataset.mixture import select_mixture
from magnet_core.dataset.records import RejectRecord, SampleRecord
from magnet_core.gc_pause import cyclic_gc_paused

ASSEMBLE_STAGE = "assemble"
DECONTAMINATE_STAGE = "decontaminate"  # decontaminate.STAGE, not imported: that module loads the BFCL index code
STEPS = ("validate", "decontaminate", "dedup", "mixture")


@dataclass
class Selection:
    kept: list[SampleRecord]  # in id order
    rejects: dict[str, list[RejectRecord]] = field(default_factory=lambda: {step: [] for step in STEPS})
    mixture: tuple[MixtureRow, ...] = ()


def _reject(record: SampleRecord, stage: str, reason: str, detail: str) -> RejectRecord:
    return RejectRecord(stage=stage, item_id=record.sample_id, reason=reason, detail=detail, handle=record.handle,
                        sample_handle=record.sample_handle)


def validated(records: list[SampleRecord]) -> tuple[list[SampleRecord], list[RejectRecord]]:
    """Visited by (id, content hash): of samples sharing an id the first is kept, the rest are `duplicate_id`."""
    kept: list[SampleRecord] = []
    rejects: list[RejectRecord] = []
    seen: set[str] = set()
    for record in sorted(records, key=lambda r: (r.sample_id, r.order_key)):
        verdict = record.invalid
        if verdict is not None and verdict[0] == "unknown_category":
            rejects.append(_reject(record, ASSEMBLE_STAGE, *verdict))
        elif record.sample_id in seen:
            rejects.append(_reject(record, ASSEMBLE_STAGE, "duplicate_id", "another sample with this id and different content came first"))
        elif verdict is not None:
            rejects.append(_reject(record, ASSEMBLE_STAGE, *verdict))
        else:
            seen.add(record.sample_id)
            kept.append(record)
    return kept, rejects


def deduplicated(records: list[SampleRecord], config: DedupConfig) -> tuple[list[SampleRecord], list[RejectRecord]]:
    if not config.enabled:
        return records, []
    keys = [record.keys for record in records]
    if any(key is None for key in keys):
        raise ValueError("dedup is on but these records were made without dedup keys")
    kept, drops = deduplicate_keys([r.sample_id for r in records], keys, config)  # type: ignore[arg-type]
    return [records[i] for i in kept], [_reject(records[i], DEDUP_STAGE, reason, detail) for i, reason, detail in drops]


def select(records: list[SampleRecord], *, decontaminate: bool, dedup: DedupConfig, mixture: MixtureTarget | None,
           seed: int) -> Selection:
    with cyclic_gc_paused():  # tens of thousands of records and reject records: nothing cyclic to free
        return _select(records, decontaminate, dedup, mixture, seed)


def _select(records: list[SampleRecord], decontaminate: bool, dedup: DedupConfig, mixture: MixtureTarget | None,
            seed: int) -> Selection:
    kept, invalid = validated(records)
    selection = Selection(kept=[])
    selection.rejects["validate"] = invalid
    if decontaminate:
        selection.rejects["decontaminate"] = [_reject(r, DECONTAMINATE_STAGE, *r.contamination) for r in kept if r.contamination]
        kept = [r for r in kept if r.contamination is None]
    kept, selection.rejects["dedup"] = deduplicated(kept, dedup)
    if mixture is not None:
        chosen, surplus, selection.mixture = select_mixture([r.sample_id for r in kept], [r.category for r in kept], mixture, seed)
        selection.rejects["mixture"] = [_reject(kept[i], MIXTURE_STAGE, reason, detail) for i, reason, detail in surplus]
        kept = [kept[i] for i in chosen]
    selection.kept = sorted(kept, key=lambda r: r.sample_id)
    return selection
