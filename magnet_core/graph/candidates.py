"""Candidate neighbours: for each function, the few functions worth asking "does this depend on it?".

Judging all pairs is quadratic and hopeless at 100,000 functions. Functions of one tool class (or
category) share state and vocabulary, so they come first; the remaining slots go to functions anywhere
in the pool whose inputs match the function's outputs, found through an inverted index from input
tokens to functions. Tokens held by too many functions identify nothing and are left out of the index,
which also keeps the work per function bounded.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict

from magnet_core.graph.features import SpecFeatures


def build_input_index(features: list[SpecFeatures], max_df: int) -> dict[str, list[int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for position, feature in enumerate(features):
        for token in feature.in_keys:
            index[token].append(position)
    return {token: postings for token, postings in index.items() if len(postings) <= max_df}


def generate_candidates(features: list[SpecFeatures], k: int = 30, max_df: int | None = None) -> list[list[int]]:
    """For each function (by position), up to `k` candidate positions, best first, never itself.

    Order is deterministic: same-group functions ranked by output->input token match (idf-weighted)
    then name, then out-of-group functions by the same score then name.
    """
    n = len(features)
    max_df = max_df if max_df is not None else max(50, int(math.sqrt(n) * 4))
    index = build_input_index(features, max_df)
    idf = {token: math.log(1 + n / len(postings)) for token, postings in index.items()}
    groups: dict[str | None, list[int]] = defaultdict(list)
    for position, feature in enumerate(features):
        if feature.group is not None:
            groups[feature.group].append(position)
    names = [feature.qualified for feature in features]
    result: list[list[int]] = []
    for position, feature in enumerate(features):
        scores: dict[int, float] = defaultdict(float)
        for token in feature.out_keys:
            weight = idf.get(token)
            if weight is None:
                continue
            for other in index[token]:
                scores[other] += weight
        scores.pop(position, None)
        same = _group_members(groups.get(feature.group, []), position, scores, features, k) if feature.group else []
        same.sort(key=lambda other: (-scores.get(other, 0.0), names[other]))
        chosen = same[:k]
        if len(chosen) < k and scores:
            taken = set(chosen)
            rest = [other for other, score in scores.items() if other not in taken and score > 0]
            rest.sort(key=lambda other: (-scores[other], names[other]))
            chosen.extend(rest[: k - len(chosen)])
        result.append(chosen)
    return result


def _group_members(members: list[int], position: int, scores: dict[int, float], features: list[SpecFeatures], k: int) -> list[int]:
    """All of a small group; of a large one (a category of thousands), its matching members plus a
    fixed window of neighbours, so the cost per function stays bounded."""
    if len(members) <= 4 * k:
        return [other for other in members if other != position]
    group = features[position].group
    matching = [other for other in scores if features[other].group == group]
    slot = bisect.bisect_left(members, position)  # members are in pool order
    window = members[max(0, slot - k // 2): slot + k // 2 + 1]
    return sorted({*matching, *window} - {position})

