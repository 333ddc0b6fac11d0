"""Figures the dataset card and `magnet inspect` report, computed from the kept samples.

Each sample's few numbers (`SampleFacts`) are taken where the sample is read once - at intake, per shard,
in whichever process prepared it - and spilled beside its row. Assembly streams the kept rows back with
their facts and hands each to `Figures.add` as the row is written: the figures and plots come out of
that one read, and writing a table never unpickles a sample. `Figures` keeps only the numbers.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from magnet_core.dataset.text import turn_calls
from magnet_core.domain import PreferencePair, Trajectory


def _describe(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0, "mean": 0.0, "median": 0.0, "min": 0.0, "max": 0.0}
    return {
        "count": len(values),
        "mean": round(statistics.fmean(values), 4),
        "median": float(statistics.median(values)),
        "min": float(min(values)),
        "max": float(max(values)),
    }


def turns_of(trajectory: Trajectory) -> int:
    return sum(1 for m in trajectory.messages if m.role == "user")


def calls_per_turn_of(trajectory: Trajectory) -> list[int]:
    return [len(turn) for turn in turn_calls(trajectory.messages)]


def node_operations_of(trajectory: Trajectory) -> list[str]:
    kinds = []
    for operation in trajectory.metadata.get("node_operations") or ():
        kind = operation.get("kind") if isinstance(operation, dict) else None
        kinds.append(str(kind or "unknown"))
    return kinds


def _cost(metadata: dict[str, Any]) -> float:
    value = metadata.get("cost_usd", 0.0)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


@dataclass(frozen=True, slots=True)
class SampleFacts:
    """What `Figures` counts of one sample (`facts_of`); the per-turn numbers are empty for a pair."""

    pair: bool
    category: str
    cost: float
    offline: bool
    simulated: bool
    source_pool: str
    models: tuple[tuple[str, str], ...]
    prompt_versions: tuple[tuple[str, str], ...]
    turns: int = 0
    calls: int = 0
    calls_per_turn: tuple[int, ...] = ()
    node_operations: tuple[str, ...] = ()


def _pairs_of(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(item)) for key, item in (value or {}).items())


def facts_of(sample: Trajectory | PreferencePair) -> SampleFacts:
    metadata = sample.metadata
    common = {"category": str(metadata.get("category")), "cost": _cost(metadata), "offline": bool(metadata.get("offline", True)),
              "source_pool": str(metadata.get("source_pool", "unknown")), "models": _pairs_of(metadata.get("models")),
              "prompt_versions": _pairs_of(metadata.get("prompt_versions"))}
    if isinstance(sample, PreferencePair):
        return SampleFacts(pair=True, simulated=False, **common)
    return SampleFacts(pair=False, simulated=bool(metadata.get("simulated")), turns=turns_of(sample),
                       calls=len(sample.assistant_calls), calls_per_turn=tuple(calls_per_turn_of(sample)),
                       node_operations=tuple(node_operations_of(sample)), **common)


@dataclass
class _Provenance:
    pools: Counter = field(default_factory=Counter)
    models: dict[str, set[str]] = field(default_factory=dict)
    prompts: dict[str, set[str]] = field(default_factory=dict)

    def add(self, facts: SampleFacts) -> None:
        self.pools[facts.source_pool] += 1
        for role, model in facts.models:
            self.models.setdefault(role, set()).add(model)
        for role, version in facts.prompt_versions:
            self.prompts.setdefault(role, set()).add(version)

    def report(self) -> dict[str, Any]:
        return {
            "source_pools": dict(sorted(self.pools.items())),
            "models": {role: sorted(names) for role, names in sorted(self.models.items())},
            "prompt_versions": {role: sorted(v) for role, v in sorted(self.prompts.items())},
        }


# The paper's multi-turn samples: 4.71 turns and 15.1 calls on average (PlanStageConfig docs say which
# plan settings reach that shape; benchmarks/plan_shape.py measures it).
PAPER_MULTI_TURN_SHAPE = {"turns": 4.71, "calls": 15.1}


def multi_turn_shape(stats: dict[str, Any]) -> dict[str, float]:
    """Mean turns and calls per multi-turn sample, beside the paper's, from `dataset_stats` output."""
    empty = {"mean": 0.0, "count": 0}
    turns = stats.get("multi_turn_turns_per_sample", empty)
    calls = stats.get("multi_turn_calls_per_sample", empty)
    return {"samples": turns["count"], "turns": turns["mean"], "calls": calls["mean"],
            "paper_turns": PAPER_MULTI_TURN_SHAPE["turns"], "paper_calls": PAPER_MULTI_TURN_SHAPE["calls"]}


@dataclass
class Figures:
    """Per-row numbers gathered as the kept samples stream past; `stats()` is the manifest's `stats`."""

    turns: list[int] = field(default_factory=list)
    calls_per_sample: list[int] = field(default_factory=list)
    calls_per_turn: list[int] = field(default_factory=list)
    multi_turns: list[int] = field(default_factory=list)
    multi_calls: list[int] = field(default_factory=list)
    categories: Counter = field(default_factory=Counter)
    node_operations: Counter = field(default_factory=Counter)
    pair_categories: Counter = field(default_factory=Counter)
    costs: list[float] = field(default_factory=list)  # SFT rows first, then pairs: the order of the sum
    pair_costs: list[float] = field(default_factory=list)
    offline: int = 0
    simulated: int = 0
    provenance: _Provenance = field(default_factory=_Provenance)

    def add(self, facts: SampleFacts) -> None:
        if facts.pair:
            self.pair_categories[facts.category] += 1
            self.pair_costs.append(facts.cost)
        else:
            self._add_trajectory(facts)
        self.offline += facts.offline
        self.provenance.add(facts)

    def _add_trajectory(self, facts: SampleFacts) -> None:
        self.turns.append(facts.turns)
        self.calls_per_sample.append(facts.calls)
        self.calls_per_turn += facts.calls_per_turn
        self.node_operations.update(facts.node_operations)
        self.categories[facts.category] += 1
        if facts.category == "multi_turn":
            self.multi_turns.append(facts.turns)
            self.multi_calls.append(facts.calls)
        self.costs.append(facts.cost)
        self.simulated += facts.simulated

    def stats(self) -> dict[str, Any]:
        costs = self.costs + self.pair_costs
        return {
            "sft_rows": len(self.turns),
            "preference_rows": len(self.pair_costs),
            "categories": dict(sorted(self.categories.items())),
            "preference_categories": dict(sorted(self.pair_categories.items())),
            "turns_per_sample": _describe(self.turns),
            "multi_turn_turns_per_sample": _describe(self.multi_turns),
            "multi_turn_calls_per_sample": _describe(self.multi_calls),
            "calls_per_sample": _describe(self.calls_per_sample),
            "calls_per_turn": _describe(self.calls_per_turn),
            "node_operations": dict(sorted(self.node_operations.items())),
            "cost_usd": {"total": round(sum(costs), 6), "mean_per_row": round(statistics.fmean(costs), 6) if costs else 0.0},
            "offline_rows": self.offline,
            "simulated_rows": self.simulated,
            **self.provenance.report(),
        }

