"""What assembly keeps of each input once it has read it: a compact record, not the sample.

Assembly reads its inputs one batch (shard) at a time. For every sample it computes, right away, all
that validation, decontamination, dedup and the mixture will ask of it - id, category, validity,
contamination verdict, dedup keys - and puts the sample's table row (with the few numbers the card
counts) and the sample itself in the spill (`spill.py`), keeping only their handles. Selection then runs
on these records (a few hundred bytes each instead of ~24 KiB), and only the selected rows and the
rejects are read back, one at a time, when the tables are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from magnet_core.dataset.config import CATEGORIES, DedupConfig
from magnet_core.dataset.dedup import DedupKeys, dedup_keys
from magnet_core.dataset.mixture import category_of
from magnet_core.dataset.text import content_hash, sample_id
from magnet_core.domain import PreferencePair, Reject, Trajectory

Verdict = tuple[str, str]  # (reason, detail)
ContaminationCheck = Callable[[Any], Verdict | None]


@dataclass(frozen=True, slots=True)
class SampleBatch:
    """One shard's worth of inputs; assembly takes an iterable of them and keeps none."""

    trajectories: Sequence[Trajectory] = ()
    pairs: Sequence[PreferencePair] = ()
    rejects: Sequence[Reject] = ()


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """One input sample as selection sees it; `handle` finds its (row, facts) in the spill, `sample_handle`
    the sample itself (read only for the BFCL export and for a sample that has no row)."""

    handle: int
    sample_id: str
    category: str
    order_key: str  # content hash of the sample: equal ids are visited in this order (which one is kept)
    invalid: Verdict | None  # unknown_category or unserializable (a repeated id is found later, by order)
    contamination: Verdict | None
    keys: DedupKeys | None  # None when dedup is off
    offline: bool
    miss_func_rendered: bool
    sample_handle: int = -1


@dataclass(frozen=True, slots=True)
class RejectRecord:
    """A reject to write: `handle` is a finished reject row (`ready`, an upstream reject) or the sample's
    (row, facts), whose row becomes the payload; `sample_handle` is the sample (for one without a row)."""

    stage: str
    item_id: str
    reason: str
    detail: str
    handle: int
    ready: bool = False
    sample_handle: int = -1

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.stage, self.item_id, self.reason, self.detail)


def checked_row(sample: Trajectory | PreferencePair, row_of: Callable[[Any], dict[str, Any]]) -> tuple[dict[str, Any] | None, Verdict | None]:
    """The sample's table row, or why it cannot have one: unknown categories and unstorable values (NaN)
    become rejects, never nulls. The row is made once, here, and written later as is."""
    if category_of(sample) not in CATEGORIES:
        return None, ("unknown_category", f"metadata.category={sample.metadata.get('category')!r}; known: {', '.join(CATEGORIES)}")
    try:
        return row_of(sample), None
    except (TypeError, ValueError) as error:
        return None, ("unserializable", str(error)[:500])


def make_record(sample: Trajectory | PreferencePair, handle: int, invalid: Verdict | None, dedup: DedupConfig,
                contamination_of: ContaminationCheck | None = None, order_key: str | None = None,
                sample_handle: int = -1) -> SampleRecord:
    """`invalid` comes from `checked_row`; `order_key` may be passed when the caller has already hashed the content."""
    return SampleRecord(
        handle=handle,
        sample_id=sample_id(sample),
        category=category_of(sample),
        order_key=order_key or content_hash(sample.model_dump(mode="json")),
        invalid=invalid,
        contamination=contamination_of(sample) if contamination_of is not None and invalid is None else None,
        keys=dedup_keys(sample, dedup) if dedup.enabled else None,
        offline=bool(sample.metadata.get("offline", True)),
        miss_func_rendered=bool(sample.metadata.get("miss_func_rendering")),
        sample_handle=sample_handle,
    )
