"""Figures the dataset card and `magnet inspect` report, computed from the kept samples.

Assembly streams the kept samples back from its spill one at a time (a dataset's samples are never all
in memory) and hands each to `Figures.add` as its row is written, so the figures, the plots and the
table come out of one read; `Figures` keeps only the numbers.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

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


@dataclass
class _Provenance:
    pools: Counter = field(default_factory=Counter)
    models: dict[str, set[str]] = field(default_factory=dict)
    prompts: dict[str, set[str]] = field(default_factory=dict)

    def add(self, sample: Trajectory | PreferencePair) -> None:
        self.pools[str(sample.metadata.get("source_pool", "unknown"))] += 1
        for role, model in (sample.metadata.get("models") or {}).items():
            self.models.setdefault(str(role), set()).add(str(model))
        for role, version in (sample.metadata.get("prompt_versions") or {}).items():
            self.prompts.setdefault(str(role), set()).add(str(version))

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

    def add(self, sample: Trajectory | PreferencePair) -> None:
        if isinstance(sample, PreferencePair):
            self.pair_categories[str(sample.metadata.get("category"))] += 1
            self.pair_costs.append(_cost(sample.metadata))
        else:
            self._add_trajectory(sample)
        self.offline += bool(sample.metadata.get("offline", True))
        self.provenance.add(sample)

    def _add_trajectory(self, t: Trajectory) -> None:
        self.turns.append(turns_of(t))
        self.calls_per_sample.append(len(t.assistant_calls))
        self.calls_per_turn += calls_per_turn_of(t)
        self.node_operations.update(node_operations_of(t))
        self.categories[str(t.metadata.get("category"))] += 1
        if t.metadata.get("category") == "multi_turn":
            self.multi_turns.append(self.turns[-1])
            self.multi_calls.append(self.calls_per_sample[-1])
        self.costs.append(_cost(t.metadata))
        self.simulated += bool(t.metadata.get("simulated"))

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

