"""Assembly's single read of its inputs: batch by batch, each sample hashed, recorded and spilled.

The version id needs a content hash of every input, and selection needs a record of every sample;
both are computed here as each batch streams past, so no more than one batch of samples is alive at a
time. A sample is prepared exactly as the assemble stage always prepared it - accounting fields
dropped (they never enter the data), the miss_func announcement rendered - before it is hashed for the
order of validation, checked, keyed and spilled, with its table row (made once) and the numbers the card
counts of it (`stats.SampleFacts`) spilled apart from it, so writing the tables never reads a sample back.
Upstream rejects are spilled as finished reject rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from magnet_core.dataset.config import AssembleConfig, DedupConfig
from magnet_core.dataset.miss_func_rendering import render_pair, render_trajectory
from magnet_core.dataset.records import ContaminationCheck, RejectRecord, SampleBatch, SampleRecord, checked_row, make_record
from magnet_core.dataset.rows import preference_row, reject_row, sft_row
from magnet_core.dataset.spill import Spill
from magnet_core.dataset.stats import facts_of
from magnet_core.dataset.text import content_hash

# Accounting, not data: what a row cost depends on the cache (a hit costs 0) and on prices, so it never
# enters the rows or the version id; spending lives in the LLM ledger.
ACCOUNTING_KEYS = ("cost_usd", "rejected_cost_usd")


def without_accounting(sample):
    """The sample without cost fields, so the version depends only on the data (see ACCOUNTING_KEYS)."""
    if not any(key in sample.metadata for key in ACCOUNTING_KEYS):
        return sample
    return sample.model_copy(update={"metadata": {k: v for k, v in sample.metadata.items() if k not in ACCOUNTING_KEYS}})


@dataclass
class Intake:
    """Records of every input, and the content hashes the version id is made of (per input kind)."""

    trajectories: list[SampleRecord] = field(default_factory=list)
    pairs: list[SampleRecord] = field(default_factory=list)
    rejects: list[RejectRecord] = field(default_factory=list)
    hashes: dict[str, list[str]] = field(default_factory=lambda: {"trajectories": [], "pairs": [], "rejects": []})


def take_in(batches: Iterable[SampleBatch], config: AssembleConfig, spill: Spill,
            contamination_of: ContaminationCheck | None) -> Intake:
    intake = Intake()
    for batch in batches:
        take_batch(intake, batch, config.miss_func_rendering, config.dedup, spill, contamination_of)
        del batch  # before the next batch is read: at most one is alive
    return intake


def take_batch(intake: Intake, batch: SampleBatch, mode: str, dedup: DedupConfig, spill: Spill,
               contamination_of: ContaminationCheck | None) -> None:
    """One batch into `intake`: each sample rendered (`mode`), hashed, checked, keyed and spilled."""
    kinds: tuple[tuple[str, list[SampleRecord], Callable, Callable, Iterable], ...] = (
        ("trajectories", intake.trajectories, lambda s: render_trajectory(s, mode), sft_row, batch.trajectories),
        ("pairs", intake.pairs, lambda s: render_pair(s, mode), preference_row, batch.pairs),
    )
    for kind, records, render, row_of, samples in kinds:
        for sample in samples:
            sample = without_accounting(sample)
            digest = content_hash(sample.model_dump(mode="json"))
            intake.hashes[kind].append(digest)
            rendered = render(sample)
            row, invalid = checked_row(rendered, row_of)
            sample_handle = spill.put(rendered)
            records.append(make_record(rendered, spill.put((row, facts_of(rendered))), invalid, dedup, contamination_of,
                                       order_key=digest if rendered is sample else None, sample_handle=sample_handle))
    for reject in batch.rejects:
        intake.hashes["rejects"].append(content_hash(reject.model_dump(mode="json")))
        intake.rejects.append(RejectRecord(stage=reject.stage, item_id=reject.item_id, reason=reject.reason,
                                           detail=reject.detail, handle=spill.put(reject_row(reject)), ready=True))
