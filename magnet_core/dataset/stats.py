"""Figures the dataset card and `magnet inspect` report, computed from the kept samples."""

from __future__ import annotations

import statistics
from collections import Counter
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


def turns_per_sample(trajectories: list[Trajectory]) -> list[int]:
    return [sum(1 for m in t.messages if m.role == "user") for t in trajectories]


def calls_per_turn(trajectories: list[Trajectory]) -> list[int]:
    return [len(turn) for t in trajectories for turn in turn_calls(t.messages)]


def node_operation_counts(trajectories: list[Trajectory]) -> Counter:
    counts: Counter = Counter()
    for trajectory in trajectories:
        for operation in trajectory.metadata.get("node_operations") or ():
            kind = operation.get("kind") if isinstance(operation, dict) else None
            counts[str(kind or "unknown")] += 1
    return counts


def _cost(metadata: dict[str, Any]) -> float:
    value = metadata.get("cost_usd", 0.0)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _provenance(samples: list[Trajectory] | list[PreferencePair]) -> dict[str, Any]:
    pools: Counter = Counter()
    models: dict[str, set[str]] = {}
    prompts: dict[str, set[str]] = {}
    for sample in samples:
        pools[str(sample.metadata.get("source_pool", "unknown"))] += 1
        for role, model in (sample.metadata.get("models") or {}).items():
            models.setdefault(str(role), set()).add(str(model))
        for role, version in (sample.metadata.get("prompt_versions") or {}).items():
            prompts.setdefault(str(role), set()).add(str(version))
    return {
        "source_pools": dict(sorted(pools.items())),
        "models": {role: sorted(names) for role, names in sorted(models.items())},
        "prompt_versions": {role: sorted(v) for role, v in sorted(prompts.items())},
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


def dataset_stats(trajectories: list[Trajectory], pairs: list[PreferencePair]) -> dict[str, Any]:
    calls_per_sample = [len(t.assistant_calls) for t in trajectories]
    multi = [t for t in trajectories if t.metadata.get("category") == "multi_turn"]
    costs = [_cost(t.metadata) for t in trajectories] + [_cost(p.metadata) for p in pairs]
    return {
        "sft_rows": len(trajectories),
        "preference_rows": len(pairs),
        "categories": dict(sorted(Counter(str(t.metadata.get("category")) for t in trajectories).items())),
        "preference_categories": dict(sorted(Counter(str(p.metadata.get("category")) for p in pairs).items())),
        "turns_per_sample": _describe(turns_per_sample(trajectories)),
        "multi_turn_turns_per_sample": _describe(turns_per_sample(multi)),
        "multi_turn_calls_per_sample": _describe([len(t.assistant_calls) for t in multi]),
        "calls_per_sample": _describe(calls_per_sample),
        "calls_per_turn": _describe(calls_per_turn(trajectories)),
        "node_operations": dict(sorted(node_operation_counts(trajectories).items())),
        "cost_usd": {"total": round(sum(costs), 6), "mean_per_row": round(statistics.fmean(costs), 6) if costs else 0.0},
        "offline_rows": sum(1 for s in [*trajectories, *pairs] if s.metadata.get("offline", True)),
        "simulated_rows": sum(1 for t in trajectories if t.metadata.get("simulated")),
        **_provenance([*trajectories, *pairs]),
    }
