"""Pick the samples of each category that make the target mixture, reproducibly under a seed.

Ratio targets: the largest total N whose per-category shares fit what is available, split by the
largest-remainder method, so each category lands within one sample of ratio * N. A category with a
positive ratio but no samples at all is left out of N (otherwise nothing could be kept) and the
report says so. Count targets: min(target, available), shortfalls noted. Samples not selected are
returned as `mixture_surplus` rejects, so the rejects table accounts for every input.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Sequence, TypeVar

from magnet_core.dataset.config import MixtureRow, MixtureTarget
from magnet_core.dataset.rows import sample_payload
from magnet_core.dataset.text import sample_id
from magnet_core.domain import PreferencePair, Reject, Trajectory

STAGE = "mixture"
Sample = TypeVar("Sample", Trajectory, PreferencePair)


def category_of(sample: Trajectory | PreferencePair) -> str:
    return str(sample.metadata.get("category", ""))


def _largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    weight_sum = sum(weights.values())
    exact = {name: total * w / weight_sum for name, w in weights.items()}
    counts = {name: math.floor(value) for name, value in exact.items()}
    by_remainder = sorted(weights, key=lambda name: (-(exact[name] - counts[name]), name))
    for name in by_remainder[: total - sum(counts.values())]:
        counts[name] += 1
    return counts


def _ratio_counts(available: dict[str, int], targets: dict[str, float]) -> tuple[dict[str, int], dict[str, float], set[str]]:
    missing = {name for name, ratio in targets.items() if ratio > 0 and available.get(name, 0) == 0}
    weights = {name: ratio for name, ratio in targets.items() if ratio > 0 and name not in missing}
    if not weights:
        return {name: 0 for name in targets}, {name: 0.0 for name in targets}, missing
    weight_sum = sum(weights.values())
    upper = min(int(available[name] * weight_sum / w) + 1 for name, w in weights.items())
    total = upper
    while total > 0:
        counts = _largest_remainder(total, weights)
        if all(counts[name] <= available[name] for name in weights):
            break
        total -= 1
    counts = _largest_remainder(total, weights) if total > 0 else {name: 0 for name in weights}
    exact = {name: total * weights.get(name, 0.0) / weight_sum for name in targets}
    return {name: counts.get(name, 0) for name in targets}, exact, missing


def select_mixture(ids: Sequence[str], categories: Sequence[str], target: MixtureTarget,
                   seed: int) -> tuple[list[int], list[tuple[int, str, str]], tuple[MixtureRow, ...]]:
    """The mixture over items known only by id and category (assembly has let the samples go by now):
    indices selected, (index, reason, detail) of the rest, and the report rows."""
    by_category: dict[str, list[int]] = defaultdict(list)
    for index in sorted(range(len(ids)), key=ids.__getitem__):
        by_category[categories[index]].append(index)
    available = {name: len(items) for name, items in by_category.items()}
    targets = dict(target.targets)
    if target.mode == "ratios":
        counts, exact, missing = _ratio_counts(available, targets)
    else:
        counts = {name: min(int(value), available.get(name, 0)) for name, value in targets.items()}
        exact, missing = {name: float(value) for name, value in targets.items()}, set()
    rng = random.Random(seed)
    selected: list[int] = []
    surplus: list[tuple[int, str, str]] = []
    for name in sorted(by_category):
        items = list(by_category[name])
        rng.shuffle(items)
        take = counts.get(name, 0)
        selected.extend(items[:take])
        reason = "mixture_surplus" if name in targets else "category_not_in_mixture"
        surplus += [(index, reason, f"category {name!r}") for index in items[take:]]
    return selected, surplus, _report(targets, available, counts, exact, missing, target.mode)


def apply_mixture(samples: Sequence[Sample], target: MixtureTarget, seed: int) -> tuple[list[Sample], list[Reject], tuple[MixtureRow, ...]]:
    """Returns (selected, surplus rejects, report rows). Categories outside the target are surplus."""
    selected, surplus, report = select_mixture([sample_id(s) for s in samples], [category_of(s) for s in samples], target, seed)
    rejects = [Reject(stage=STAGE, item_id=sample_id(samples[i]), reason=reason, detail=detail, payload=sample_payload(samples[i]))
               for i, reason, detail in surplus]
    return [samples[i] for i in selected], rejects, report


def _report(targets: dict[str, float], available: dict[str, int], counts: dict[str, int], exact: dict[str, float],
            missing: set[str], mode: str) -> tuple[MixtureRow, ...]:
    """One row per category: target, achieved, and every surplus (not kept) or shortfall, in words."""
    kept_total = sum(counts.values())
    target_sum = sum(targets.values()) or 1.0
    limits = sorted(name for name in targets if targets[name] > 0 and name not in missing and counts.get(name, 0) == available.get(name, 0))
    report = []
    for name in sorted(set(targets) | set(available)):
        have, got = available.get(name, 0), counts.get(name, 0)
        shortfall = max(0, math.ceil(exact.get(name, 0.0) - 1e-9) - got) if name in targets else 0
        surplus = have - got
        notes = []
        if name in missing:
            notes.append("no samples available: left out of the mixture")
        elif name not in targets:
            notes.append(f"not in the target: {have} not kept")
        else:
            if shortfall > (1 if mode == "ratios" else 0):
                notes.append(f"short by {shortfall}")
            if surplus:
                why = f" (ratio capped by {', '.join(limits)})" if mode == "ratios" and limits else ""
                notes.append(f"surplus {surplus} not kept{why}")
        report.append(
            MixtureRow(
                category=name,
                available=have,
                target_count=round(exact.get(name, 0.0), 3),
                target_share=round(targets.get(name, 0.0) / target_sum, 4),
                achieved=got,
                achieved_share=round(got / kept_total, 4) if kept_total else 0.0,
                surplus=surplus,
                shortfall=shortfall if mode == "counts" or shortfall > 1 else 0,  # a ratio split is exact within one
                note="; ".join(notes),
            )
        )
    return tuple(report)
