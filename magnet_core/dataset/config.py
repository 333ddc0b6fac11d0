"""Typed configuration and result of the assemble stage.

The config is part of the version id: everything that changes what lands on disk lives here, and
nothing that does not (the output root, the cache location) takes part in the hash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CATEGORIES: tuple[str, ...] = ("single", "parallel", "multiple", "multi_turn", "irrelevance")
SINGLE_TURN_CATEGORIES: tuple[str, ...] = ("single", "parallel", "multiple")

# METHOD.md section 7: SFT 20,000 single-turn : 7,800 multi-turn : 6,200 irrelevance, with irrelevance
# held at 15-17% of the mix. The paper's counts put irrelevance at 18%, so the default ratios keep the
# multi-turn share of the counts (7,800 / 34,000) and fix irrelevance at the middle of its band; the
# single-turn share is split evenly across single / parallel / multiple (the paper does not split it).
PAPER_SFT_COUNTS = {"single_turn": 20_000, "multi_turn": 7_800, "irrelevance": 6_200}
PAPER_PREFERENCE_COUNTS = {"single_turn": 1_556, "multi_turn": 2_250, "irrelevance": 750}
_IRRELEVANCE_SHARE = 0.16
_MULTI_TURN_SHARE = round(PAPER_SFT_COUNTS["multi_turn"] / sum(PAPER_SFT_COUNTS.values()), 4)
_SINGLE_EACH = round((1.0 - _IRRELEVANCE_SHARE - _MULTI_TURN_SHARE) / 3, 6)


class MixtureTarget(BaseModel):
    """Per-category target: absolute counts, or ratios that the largest feasible total is split by."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["ratios", "counts"] = "ratios"
    targets: dict[str, float]

    @model_validator(mode="after")
    def _check(self) -> "MixtureTarget":
        if not self.targets:
            raise ValueError("a mixture target names at least one category (an empty one would keep nothing)")
        unknown = set(self.targets) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories in mixture target: {sorted(unknown)}; known: {list(CATEGORIES)}")
        if any(value < 0 for value in self.targets.values()):
            raise ValueError("mixture targets must be >= 0")
        if self.mode == "counts" and any(float(v) != int(v) for v in self.targets.values()):
            raise ValueError("count targets must be whole numbers")
        if self.mode == "ratios" and sum(self.targets.values()) <= 0:
            raise ValueError("ratio targets must not all be zero")
        return self

    @classmethod
    def paper_ratios(cls) -> "MixtureTarget":
        single = {name: _SINGLE_EACH for name in SINGLE_TURN_CATEGORIES}
        return cls(mode="ratios", targets={**single, "multi_turn": _MULTI_TURN_SHARE, "irrelevance": _IRRELEVANCE_SHARE})

    @classmethod
    def paper_preference_ratios(cls) -> "MixtureTarget":
        """mDPO pairs as in the paper (1,556 single-turn : 2,250 multi-turn : 750 irrelevance)."""
        counts = PAPER_PREFERENCE_COUNTS
        single = {name: counts["single_turn"] / 3 for name in SINGLE_TURN_CATEGORIES}
        return cls(mode="ratios", targets={**single, "multi_turn": counts["multi_turn"], "irrelevance": counts["irrelevance"]})

    @classmethod
    def counts(cls, **counts: int) -> "MixtureTarget":
        return cls(mode="counts", targets={name: float(value) for name, value in counts.items()})

    @classmethod
    def ratios(cls, **ratios: float) -> "MixtureTarget":
        return cls(mode="ratios", targets=dict(ratios))


SIZE_GROUPS: dict[str, tuple[str, ...]] = {"single_turn": SINGLE_TURN_CATEGORIES}


def _split_evenly(total: int, names: tuple[str, ...]) -> dict[str, int]:
    base, extra = divmod(int(total), len(names))
    return {name: base + (1 if i < extra else 0) for i, name in enumerate(names)}


def _proportional(total: int, weights: dict[str, int]) -> dict[str, int]:
    """Largest-remainder split of `total` by `weights` (ties by name): the parts sum to `total` exactly."""
    weight_sum = sum(weights.values())
    exact = {name: total * w / weight_sum for name, w in weights.items()}
    counts = {name: int(value) for name, value in exact.items()}
    for name in sorted(weights, key=lambda n: (-(exact[n] - counts[n]), n))[: total - sum(counts.values())]:
        counts[name] += 1
    return counts


def _expand_groups(counts: dict[str, int]) -> dict[str, int]:
    """`single_turn` is the paper's group: it splits evenly over single / parallel / multiple."""
    out: dict[str, int] = {}
    for name, value in counts.items():
        for member, part in (_split_evenly(value, SIZE_GROUPS[name]) if name in SIZE_GROUPS else {name: value}).items():
            out[member] = out.get(member, 0) + part
    return out


class DatasetTarget(BaseModel):
    """The dataset the user asks for, in rows and pairs; the factory derives every stage size from it.

    `sft_rows` / `preference_pairs` are split by the paper's mixture (SFT 20,000 single-turn : 7,800
    multi-turn : 6,200 irrelevance; mDPO 1,556 : 2,250 : 750; single-turn evenly over single / parallel /
    multiple); `sft_counts` / `preference_counts` give counts per category instead (keys: single, parallel,
    multiple, multi_turn, irrelevance, or the group single_turn). Plans, walks and single-turn counts come
    from measured yields plus `margin`; categories still short get up to `top_up_rounds` more rounds.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sft_rows: int | None = Field(None, ge=0, description="SFT rows wanted (paper mixture ratios)")
    preference_pairs: int | None = Field(None, ge=0, description="Preference pairs wanted (paper mDPO mixture ratios)")
    sft_counts: dict[str, int] | None = Field(None, description="SFT rows per category instead of sft_rows")
    preference_counts: dict[str, int] | None = Field(None, description="Pairs per category instead of preference_pairs")
    margin: float = Field(0.15, ge=0.0, le=2.0, description="Over-generation margin on top of the expected yield")
    top_up_rounds: int = Field(2, ge=0, le=5, description="Extra rounds for categories that fell short")

    @model_validator(mode="after")
    def _check(self) -> "DatasetTarget":
        for total, counts, label in ((self.sft_rows, self.sft_counts, "sft"), (self.preference_pairs, self.preference_counts, "preference")):
            if total is not None and counts is not None:
                raise ValueError(f"give {label} as a total or as counts per category, not both")
            for name, value in (counts or {}).items():
                if name not in CATEGORIES and name not in SIZE_GROUPS:
                    raise ValueError(f"unknown category {name!r} in {label}_counts; known: {[*CATEGORIES, *SIZE_GROUPS]}")
                if value < 0:
                    raise ValueError(f"{label}_counts[{name!r}] must be >= 0")
        if self.sft_rows is None and self.sft_counts is None and self.preference_pairs is None and self.preference_counts is None:
            raise ValueError("a dataset target asks for sft_rows, preference_pairs or counts per category")
        return self

    def sft_category_counts(self) -> dict[str, int]:
        """Rows wanted per SFT category (empty: no SFT size asked)."""
        if self.sft_counts is not None:
            return _expand_groups(self.sft_counts)
        return _expand_groups(_proportional(self.sft_rows, PAPER_SFT_COUNTS)) if self.sft_rows is not None else {}

    def preference_category_counts(self) -> dict[str, int]:
        if self.preference_counts is not None:
            return _expand_groups(self.preference_counts)
        if self.preference_pairs is None:
            return {}
        return _expand_groups(_proportional(self.preference_pairs, PAPER_PREFERENCE_COUNTS))


class DedupConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    near_threshold: float = Field(0.8, gt=0.0, le=1.0)
    shingle_size: int = Field(3, ge=1, le=10)
    num_perm: int = Field(64, ge=8, le=512)
    bands: int = Field(16, ge=1)

    @model_validator(mode="after")
    def _check(self) -> "DedupConfig":
        if self.num_perm % self.bands:
            raise ValueError("num_perm must be a multiple of bands")
        return self


class DecontamConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    ngram_size: int = Field(8, ge=3, le=30)
    overlap_threshold: float = Field(0.5, gt=0.0, le=1.0)
    check_call_sequences: bool = True


class AssembleConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    root: Path = Path("data")
    cache_dir: Path | None = None
    mixture: MixtureTarget = Field(default_factory=MixtureTarget.paper_ratios)
    preference_mixture: MixtureTarget | None = Field(default_factory=MixtureTarget.paper_preference_ratios)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    decontamination: DecontamConfig = Field(default_factory=DecontamConfig)
    seed: int = 0
    row_group_size: int = Field(512, ge=1)
    rows_per_file: int = Field(50_000, ge=1)
    export_bfcl: bool = False
    plots: bool = True
    miss_func_rendering: Literal["prompting", "function_calling"] = Field(
        "prompting", description="How a function withheld by miss_func and made available later is shown: see dataset/miss_func_rendering.py")

    def hashed_part(self) -> dict:
        """What the version id depends on: not where it is written or cached."""
        return self.model_dump(mode="json", exclude={"root", "cache_dir"})


class MixtureRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str
    available: int
    target_count: float
    target_share: float
    achieved: int
    achieved_share: float
    surplus: int = 0  # available but not kept (mixture_surplus rejects)
    shortfall: int = 0  # target not reached (counts targets, or the ratio split of the kept total)
    note: str = ""


class DatasetVersion(BaseModel):
    """What `assemble_dataset` hands back; the same numbers live in the version's manifest.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version_id: str
    path: Path
    reused: bool
    offline: bool
    counts: dict[str, int]
    mixture: tuple[MixtureRow, ...]
    preference_mixture: tuple[MixtureRow, ...] = ()
    rejects_by_reason: dict[str, int] = Field(default_factory=dict)
    multi_turn_shape: dict[str, float] = Field(default_factory=dict)  # mean turns/calls per multi-turn sample, beside the paper's
