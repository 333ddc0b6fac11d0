"""From the dataset the user wants to the sizes every stage must produce, and back again after a round.

Yields are "rows that reach the mixture (after verification and dedup) per unit asked": per path for
multi-turn (each path gives P and usually P'), per sample asked for the single-turn kinds, per pair asked
for their pairs. Round 1 uses `PRIOR_YIELDS` (measured on the offline default, BFCL pool) plus the
margin; after it, the yields measured on round 1 size a top-up for the categories still short. Without
an explicit target the wanted counts are implied by the plans: enough of every other category that the
ratio mixture keeps every multi-turn row (raising the single-turn counts, never lowering them).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable

from pydantic import BaseModel, ConfigDict, Field

from magnet_core.dataset.config import CATEGORIES, SINGLE_TURN_CATEGORIES, DatasetTarget, DedupConfig, MixtureTarget

if TYPE_CHECKING:  # records pulls in numpy and the dedup code: imported where the measure runs
    from magnet_core.dataset.records import SampleBatch, SampleRecord

KINDS = (*SINGLE_TURN_CATEGORIES, "irrelevance")
MIN_YIELD = 0.02  # below this a category is treated as exhausted: asking 50x more is not a plan


class Yields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    multi_turn_per_path: float = Field(gt=0)
    multi_turn_pairs_per_path: float = Field(ge=0)
    samples: dict[str, float]  # kind -> SFT rows kept per sample asked
    pairs: dict[str, float]  # kind -> pairs kept per pair asked


# Round-1 priors, at or a little under what the offline default gives on the BFCL pool (128 functions, seed 0):
# 200- and 641-path runs kept 1.5-1.6 multi-turn rows and 3.0 multi-turn pairs per path; ~900 samples per kind
# kept single 0.7, parallel 0.7, multiple 0.75, irrelevance 0.88 after dedup (more of small requests, less
# of big ones on a small pool: the measured top-up rounds correct for it).
PRIOR_YIELDS = Yields(multi_turn_per_path=1.5, multi_turn_pairs_per_path=2.8,
                      samples={"single": 0.7, "parallel": 0.7, "multiple": 0.75, "irrelevance": 0.85},
                      pairs={"single": 0.85, "parallel": 0.75, "multiple": 0.85, "irrelevance": 0.9})


class Request(BaseModel):
    """What one round generates: paths for plans, and samples / pairs per single-turn kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: int = 0
    samples: dict[str, int] = Field(default_factory=dict)
    pairs: dict[str, int] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.paths == 0 and not any(self.samples.values()) and not any(self.pairs.values())


def _ask(wanted: int, per_unit: float, margin: float) -> int:
    return 0 if wanted <= 0 else math.ceil(wanted * (1.0 + margin) / max(per_unit, MIN_YIELD) - 1e-9)  # no float dust


def request_for(sft: dict[str, int], pref: dict[str, int], yields: Yields, margin: float) -> Request:
    """Round sizes for `sft` rows and `pref` pairs wanted per category (missing = 0)."""
    paths = max(_ask(sft.get("multi_turn", 0), yields.multi_turn_per_path, margin),
                _ask(pref.get("multi_turn", 0), yields.multi_turn_pairs_per_path, margin))
    pairs = {kind: _ask(pref.get(kind, 0), yields.pairs[kind], margin) for kind in KINDS}
    samples = {kind: max(_ask(sft.get(kind, 0), yields.samples[kind], margin), pairs[kind]) for kind in KINDS}
    return Request(paths=paths, samples=samples, pairs=pairs)


def implied_counts(mixture: MixtureTarget, multi_turn: float) -> dict[str, int]:
    """Without a target: per category, what a ratio mixture needs to keep `multi_turn` multi-turn rows."""
    share = mixture.targets.get("multi_turn", 0.0)
    if mixture.mode != "ratios" or share <= 0:
        return {}
    return {name: math.ceil(multi_turn * ratio / share) for name, ratio in mixture.targets.items() if ratio > 0}


def wanted_counts(target: DatasetTarget | None, sft_mixture: MixtureTarget, pref_mixture: MixtureTarget | None,
                  multi_turn_rows: float, multi_turn_pairs: float) -> tuple[dict[str, int], dict[str, int]]:
    """(SFT rows, pairs) wanted per category: the target's, or those implied by the multi-turn output."""
    if target is not None:
        return target.sft_category_counts(), target.preference_category_counts()
    pref = implied_counts(pref_mixture, multi_turn_pairs) if pref_mixture is not None else {}
    return implied_counts(sft_mixture, multi_turn_rows), pref


class Measure(BaseModel):
    """What reached the mixture after a round, and what had been asked by then."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sft: dict[str, int]
    pref: dict[str, int]
    asked: Request


def _per_unit(name: str, available: dict[str, int], units: int, earlier: Measure | None, field: str) -> float:
    """Yield per unit asked; after two rounds the marginal one (dedup makes each new sample less likely to
    survive than the average says, so the average would under-ask on a pool that is running dry)."""
    if earlier is not None:
        before = getattr(earlier, field).get(name, 0)
        earlier_units = _units(earlier.asked, name, field)
        if units > earlier_units:
            return max(0, available.get(name, 0) - before) / (units - earlier_units)
    return available.get(name, 0) / units if units else 0.0


def _units(asked: Request, name: str, field: str) -> int:
    if name == "multi_turn":
        return asked.paths
    return (asked.samples if field == "sft" else asked.pairs).get(name, 0)


def top_up(sft_wanted: dict[str, int], pref_wanted: dict[str, int], now: Measure, margin: float,
           earlier: Measure | None = None) -> tuple[Request, dict[str, str]]:
    """The next round for the categories still short, sized by the yields measured so far.

    Returns the request and, per category that cannot be topped up, why (no yield left: exhausted)."""
    notes: dict[str, str] = {}

    def more(name: str, wanted: dict[str, int], field: str) -> int:
        available = getattr(now, field)
        short = wanted.get(name, 0) - available.get(name, 0)
        units = _units(now.asked, name, field)
        if short <= 0:
            return 0
        measured = _per_unit(name, available, units, earlier, field)
        if units and measured < MIN_YIELD:
            notes[name] = f"exhausted: {available.get(name, 0)} kept of {units} asked; the last round added almost none"
            return 0
        return _ask(short, measured if units else MIN_YIELD, margin)

    pairs = {kind: more(kind, pref_wanted, "pref") for kind in KINDS}
    samples = {kind: max(more(kind, sft_wanted, "sft"), pairs[kind]) for kind in KINDS}
    paths = max(more("multi_turn", sft_wanted, "sft"), more("multi_turn", pref_wanted, "pref"))
    return Request(paths=paths, samples=samples, pairs=pairs), notes


def merged(first: Request, second: Request) -> Request:
    return Request(paths=first.paths + second.paths,
                   samples={k: first.samples.get(k, 0) + second.samples.get(k, 0) for k in KINDS},
                   pairs={k: first.pairs.get(k, 0) + second.pairs.get(k, 0) for k in KINDS})


def count_targets(counts: dict[str, int]) -> MixtureTarget:
    """Count-mode mixture for the wanted counts (every known category named, 0 when not wanted)."""
    return MixtureTarget(mode="counts", targets={name: float(counts.get(name, 0)) for name in CATEGORIES})


def available_counts(batches: Iterable[SampleBatch], dedup: DedupConfig,
                     mode: str = "prompting") -> tuple[dict[str, int], dict[str, int]]:
    """SFT rows and pairs per category that would reach the mixture: rendered (`mode`, the miss_func
    rendering), valid, then deduplicated the way the assemble stage does (decontamination is left to
    assembly: it removes few, the margin covers them).

    `batches` (one per shard) are read one at a time by assembly's own per-sample pass (`intake.take_batch`):
    only each sample's compact record is kept, the samples go to a temporary spill."""
    from magnet_core.dataset.intake import Intake, take_batch
    from magnet_core.dataset.spill import Spill

    intake = Intake()
    with Spill() as spill:
        for batch in batches:
            take_batch(intake, batch, mode, dedup, spill, None)
            del batch
    return counts_of_records(intake.trajectories, intake.pairs, dedup)


def counts_of_records(trajectories: list[SampleRecord], pairs: list[SampleRecord], dedup: DedupConfig, *,
                      decontaminate: bool = False) -> tuple[dict[str, int], dict[str, int]]:
    """`available_counts` on records already made (prepared shards: no sample is read again): the assemble
    stage's selection up to the mixture (validation, the records' decontamination verdicts, dedup), so
    when no round follows, assembly finds that selection already made (`dedup.deduplicate_keys` remembers)."""
    from collections import Counter

    from magnet_core.dataset.selection import select

    counted = [select(records, decontaminate=decontaminate, dedup=dedup, mixture=None, seed=0).kept
               for records in (trajectories, pairs)]
    return dict(Counter(r.category for r in counted[0])), dict(Counter(r.category for r in counted[1]))
