"""The dedup pass against a brute-force reading of its rule, on templated queries (the case that fills
band buckets), and its memory of the last inputs."""

from __future__ import annotations

import hashlib
import random

import numpy as np

from magnet_core.dataset import dedup
from magnet_core.dataset.config import DedupConfig
from magnet_core.dataset.dedup import DedupKeys, MinHasher, deduplicate_keys, shingles

WORDS = "book a flight to paris for two adults on friday and send the receipt by mail please now".split()


def _items(count: int, seed: int, config: DedupConfig) -> tuple[list[str], list[DedupKeys]]:
    """Queries made from one template with a few words changed: many share band buckets, some are near copies."""
    rng = random.Random(seed)
    hasher = MinHasher(config.num_perm)
    ids, keys = [], []
    for n in range(count):
        words = list(WORDS)
        for _ in range(rng.choice((0, 1, 2, 4, 8))):
            words[rng.randrange(len(words))] = rng.choice(("rome", "three", "monday", "fax", "kids", "soon"))
        text = " ".join(words)
        grams = shingles(text, config.shingle_size)
        side = rng.choice((b"", b"", b"other-mistake"))
        content = hashlib.sha256(f"{n}".encode()).digest()  # every item differs in content: the near rule decides
        query = hashlib.sha256(f"{text}\0{side!r}{n % 7 == 0 and n}".encode()).digest()
        ids.append(f"id-{rng.randrange(10**6):06d}-{n}")
        keys.append(DedupKeys(content=content, query=query, side=side, shingles=grams,
                              signature=hasher.signature(grams) if rng.random() < 0.5 else None))  # made here or in the pass
    return ids, keys


def _brute_force(ids: list[str], keys: list[DedupKeys], config: DedupConfig) -> tuple[list[int], list[tuple[int, str, str]]]:
    """In id order: an item is a near copy of the first kept item (in kept order) with its side that shares a band
    and whose shingle Jaccard reaches the threshold; exact rules first."""
    hasher, rows = MinHasher(config.num_perm), config.num_perm // config.bands
    signature = [hasher.signature(key.shingles) for key in keys]
    share = lambda a, b: any(np.array_equal(signature[a][k * rows:(k + 1) * rows], signature[b][k * rows:(k + 1) * rows])
                             for k in range(config.bands))
    kept, drops, contents, queries = [], [], {}, {}
    for i in sorted(range(len(ids)), key=ids.__getitem__):
        key = keys[i]
        if key.content in contents:
            drops.append((i, "duplicate_exact", f"same messages and tools as {contents[key.content]}"))
            continue
        if key.query in queries:
            drops.append((i, "duplicate_exact", f"same user queries as {queries[key.query]}"))
            continue
        near = None
        for j in kept:
            if keys[j].side == key.side and share(i, j):
                a, b = set(key.shingles.tolist()), set(keys[j].shingles.tolist())
                similarity = len(a & b) / len(a | b)
                if similarity >= config.near_threshold:
                    near = (j, similarity)
                    break
        if near is not None:
            drops.append((i, "duplicate_near", f"query Jaccard {near[1]:.2f} with {ids[near[0]]}"))
            continue
        contents[key.content], queries[key.query] = ids[i], ids[i]
        kept.append(i)
    return kept, drops


def test_the_vectorised_pass_keeps_and_drops_what_the_rule_says():
    for seed, threshold in ((0, 0.8), (1, 0.5), (2, 0.9)):
        config = DedupConfig(near_threshold=threshold)
        ids, keys = _items(400, seed, config)
        kept, drops = deduplicate_keys(ids, keys, config)
        assert (kept, drops) == _brute_force(ids, keys, config)
        assert sum(reason == "duplicate_near" for _, reason, _ in drops) > 5  # the case under test happened


def test_the_same_inputs_are_answered_from_memory_and_the_answer_cannot_be_changed(monkeypatch):
    config = DedupConfig()
    ids, keys = _items(200, 5, config)
    first = deduplicate_keys(ids, keys, config)
    first[0].clear()  # a caller's list, not the remembered one
    calls = []
    monkeypatch.setattr(dedup, "_deduplicate", lambda *args: calls.append(args) or ([], []))
    assert deduplicate_keys(ids, keys, config) == _brute_force(ids, keys, config)
    assert not calls
    other = [*keys[:-1], DedupKeys(content=b"x", query=None, side=b"", shingles=keys[-1].shingles)]
    deduplicate_keys(ids, other, config)  # one key differs: computed, not remembered
    assert len(calls) == 1
