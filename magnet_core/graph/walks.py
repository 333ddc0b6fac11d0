"""Function-signature paths: seeded random walks over the dependency graph.

Policy: the next function is drawn uniformly from the current one's successors that are not already on
the path (a plan that calls one function twice in a row of turns teaches little, and cycles never end).
The walk stops at `length` functions, at a dead end (no successors: stop_reason "dead_end") or when
every successor is already on the path ("revisit"). With `revisits=True` any successor may be drawn, so
a function can come back later in the path (`ls` again after `cd`), and at a dead end the walk goes on
from the newest earlier function that has successors: it stops only at `length` or when no function on
the path has any, the way to the paper's long plans (4.7 turns, 15 calls) over small tool classes. Each walk's randomness comes from (seed, start,
walk index) alone, so walks can be computed in any order or shard and come out the same.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence

from magnet_core.domain.plans import FunctionSignaturePath
from magnet_core.gc_pause import cyclic_gc_paused


def derived_rng(seed: int, *parts: object) -> random.Random:
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def random_walk(adjacency: Mapping[str, Sequence[str]], start: str, length: int, seed: int, walk_index: int = 0,
                revisits: bool = False) -> FunctionSignaturePath:
    """`adjacency` maps a node to its successors in a fixed (sorted) order."""
    rng = derived_rng(seed, "walk", start, walk_index)
    nodes = [start]
    on_path = {start}
    stop_reason = "length"
    while len(nodes) < length:
        successors = _onward(adjacency, nodes) if revisits else adjacency.get(nodes[-1], ())
        if not successors:
            stop_reason = "dead_end"
            break
        fresh = list(successors) if revisits else [node for node in successors if node not in on_path]
        if not fresh:
            stop_reason = "revisit"
            break
        chosen = fresh[rng.randrange(len(fresh))]
        nodes.append(chosen)
        on_path.add(chosen)
    return FunctionSignaturePath(nodes=tuple(nodes), seed=seed, stop_reason=stop_reason)


def _onward(adjacency: Mapping[str, Sequence[str]], nodes: list[str]) -> list[str]:
    """Successors of the newest function on the path that has any other than the current function: at a
    dead end (`cat` feeds nothing) the walk goes on from an earlier function (a later turn uses an earlier
    output: a long dependency), never to the function it is at."""
    for node in reversed(nodes):
        onward = [other for other in adjacency.get(node, ()) if other != nodes[-1]]
        if onward:
            return onward
    return []


def sample_paths(
    adjacency: Mapping[str, Sequence[str]],
    starts: Iterable[str],
    length: int,
    seed: int,
    walks_per_function: int = 1,
    min_length: int = 2,
    revisits: bool = False,
) -> tuple[list[FunctionSignaturePath], dict[str, int]]:
    """Walks from every start; identical node sequences are kept once (the first, in start order).

    Returns the paths and counts of what was set aside (too short, duplicate) so nothing vanishes unseen.
    """
    with cyclic_gc_paused():
        return _sample_paths(adjacency, starts, length, seed, walks_per_function, min_length, revisits)


def _sample_paths(adjacency, starts, length, seed, walks_per_function, min_length, revisits):  # type: ignore[no-untyped-def]
    paths: list[FunctionSignaturePath] = []
    seen: set[tuple[str, ...]] = set()
    counts = {"walks": 0, "too_short": 0, "duplicates": 0}
    for start in starts:
        for walk_index in range(walks_per_function):
            counts["walks"] += 1
            path = random_walk(adjacency, start, length, seed, walk_index, revisits)
            if len(path.nodes) < min_length:
                counts["too_short"] += 1
                continue
            if path.nodes in seen:
                counts["duplicates"] += 1
                continue
            seen.add(path.nodes)
            paths.append(path)
    return paths, counts
