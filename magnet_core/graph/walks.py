"""Function-signature paths: seeded random walks over the dependency graph.

Policy: the next function is drawn uniformly from the current one's successors that are not already on
the path (a plan that calls one function twice in a row of turns teaches little, and cycles never end).
The walk stops at `length` functions, at a dead end (no successors: stop_reason "dead_end") or when
every successor is already on the path ("revisit"). Each walk's randomness comes from (seed, start,
walk index) alone, so walks can be computed in any order or shard and come out the same.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence

from magnet_core.domain.plans import FunctionSignaturePath
from magnet_core.graph.gc_pause import cyclic_gc_paused


def derived_rng(seed: int, *parts: object) -> random.Random:
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def random_walk(adjacency: Mapping[str, Sequence[str]], start: str, length: int, seed: int, walk_index: int = 0) -> FunctionSignaturePath:
    """`adjacency` maps a node to its successors in a fixed (sorted) order."""
    rng = derived_rng(seed, "walk", start, walk_index)
    nodes = [start]
    on_path = {start}
    stop_reason = "length"
    while len(nodes) < length:
        successors = adjacency.get(nodes[-1], ())
        if not successors:
            stop_reason = "dead_end"
            break
        fresh = [node for node in successors if node not in on_path]
        if not fresh:
            stop_reason = "revisit"
            break
        chosen = fresh[rng.randrange(len(fresh))]
        nodes.append(chosen)
        on_path.add(chosen)
    return FunctionSignaturePath(nodes=tuple(nodes), seed=seed, stop_reason=stop_reason)


def sample_paths(
    adjacency: Mapping[str, Sequence[str]],
    starts: Iterable[str],
    length: int,
    seed: int,
    walks_per_function: int = 1,
    min_length: int = 2,
) -> tuple[list[FunctionSignaturePath], dict[str, int]]:
    """Walks from every start; identical node sequences are kept once (the first, in start order).

    Returns the paths and counts of what was set aside (too short, duplicate) so nothing vanishes unseen.
    """
    with cyclic_gc_paused():
        return _sample_paths(adjacency, starts, length, seed, walks_per_function, min_length)


def _sample_paths(adjacency, starts, length, seed, walks_per_function, min_length):  # type: ignore[no-untyped-def]
    paths: list[FunctionSignaturePath] = []
    seen: set[tuple[str, ...]] = set()
    counts = {"walks": 0, "too_short": 0, "duplicates": 0}
    for start in starts:
        for walk_index in range(walks_per_function):
            counts["walks"] += 1
            path = random_walk(adjacency, start, length, seed, walk_index)
            if len(path.nodes) < min_length:
                counts["too_short"] += 1
                continue
            if path.nodes in seen:
                counts["duplicates"] += 1
                continue
            seen.add(path.nodes)
            paths.append(path)
    return paths, counts
