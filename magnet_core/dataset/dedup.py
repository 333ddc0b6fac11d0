"""Exact and near-duplicate removal, in linear time.

Exact: samples whose normalised user queries are identical, or whose whole content (messages and
tools) is identical. Near: MinHash over word shingles of the queries with LSH banding, so a sample
is only compared with the few already-kept samples that share a band bucket; a candidate is a
duplicate when its true shingle Jaccard similarity reaches the threshold. Samples are visited in
id order, so which copy survives does not depend on input order. Every drop is a `Reject` naming the
kept sample.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence, TypeVar

import numpy as np

from magnet_core.dataset.config import DedupConfig
from magnet_core.dataset.rows import sample_payload
from magnet_core.dataset.text import canonical_call, content_hash, sample_id, sample_user_texts, stable_hash64, words
from magnet_core.domain import PreferencePair, Reject, Trajectory

STAGE = "dedup"
_PRIME = np.uint64((1 << 61) - 1)
Sample = TypeVar("Sample", Trajectory, PreferencePair)


class MinHasher:
    def __init__(self, num_perm: int, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, (1 << 61) - 1, size=num_perm, dtype=np.uint64)

    def signature(self, shingles: set[int]) -> np.ndarray:
        values = np.fromiter(shingles, dtype=np.uint64, count=len(shingles)) & np.uint64(0xFFFFFFFF)
        with np.errstate(over="ignore"):
            hashed = (values[:, None] * self.a[None, :] + self.b[None, :]) % _PRIME
        return hashed.min(axis=0)


def shingles(text: str, size: int) -> set[int]:
    tokens = words(text)
    if len(tokens) <= size:
        return {stable_hash64(" ".join(tokens))} if tokens else set()
    return {stable_hash64(" ".join(tokens[i : i + size])) for i in range(len(tokens) - size + 1)}


def _query(sample: Trajectory | PreferencePair) -> str:
    return "\n".join(" ".join(words(text)) for text in sample_user_texts(sample))


def _side_key(sample: Trajectory | PreferencePair) -> str:
    """A pair is also told apart by its rejected side: one prompt with different mistakes is different signal."""
    if isinstance(sample, Trajectory):
        return ""
    rejected = [canonical_call(c.function) for m in sample.rejected for c in m.tool_calls]
    return content_hash(rejected + [m.content for m in sample.rejected if m.content])


def _content_key(sample: Trajectory | PreferencePair) -> str:
    data = sample.model_dump(mode="json", exclude={"trajectory_id", "pair_id", "metadata", "scenario_id"})
    return content_hash(data)


def deduplicate(samples: Sequence[Sample], config: DedupConfig) -> tuple[list[Sample], list[Reject]]:
    if not config.enabled:
        return list(samples), []
    hasher = MinHasher(config.num_perm)
    rows = config.num_perm // config.bands
    by_query: dict[tuple[str, str], str] = {}
    by_content: dict[str, str] = {}
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    kept: list[Sample] = []
    kept_shingles: list[set[int]] = []
    kept_sides: list[str] = []
    rejects: list[Reject] = []

    def drop(sample: Sample, reason: str, detail: str) -> None:
        rejects.append(Reject(stage=STAGE, item_id=sample_id(sample), reason=reason, detail=detail, payload=sample_payload(sample)))

    for sample in sorted(samples, key=sample_id):
        query, side, key = _query(sample), _side_key(sample), _content_key(sample)
        if key in by_content:
            drop(sample, "duplicate_exact", f"same messages and tools as {by_content[key]}")
            continue
        if query and (query, side) in by_query:
            drop(sample, "duplicate_exact", f"same user queries as {by_query[query, side]}")
            continue
        grams = shingles(query, config.shingle_size)
        band_keys: list[tuple[int, bytes]] = []
        match: tuple[int, float] | None = None
        if grams:
            signature = hasher.signature(grams)
            band_keys = [(band, signature[band * rows : (band + 1) * rows].tobytes()) for band in range(config.bands)]
            candidates = sorted({i for band_key in band_keys for i in buckets.get(band_key, ())})
            for i in candidates:
                if kept_sides[i] != side:
                    continue
                other = kept_shingles[i]
                similarity = len(grams & other) / len(grams | other)
                if similarity >= config.near_threshold:
                    match = (i, similarity)
                    break
        if match is not None:
            drop(sample, "duplicate_near", f"query Jaccard {match[1]:.2f} with {sample_id(kept[match[0]])}")
            continue
        by_content[key] = sample_id(sample)
        if query:
            by_query[query, side] = sample_id(sample)
        for band_key in band_keys:
            buckets[band_key].append(len(kept))
        kept.append(sample)
        kept_shingles.append(grams)
        kept_sides.append(side)
    return kept, rejects
