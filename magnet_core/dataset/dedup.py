"""Exact and near-duplicate removal, in linear time, on compact keys rather than samples.

Exact: samples whose normalised user queries are identical, or whose whole content (messages and
tools) is identical. Near: MinHash over word shingles of the queries with LSH banding, so a sample
is only compared with the few already-kept samples that share a band bucket; a candidate is a
duplicate when its true shingle Jaccard similarity reaches the threshold. Samples are visited in
id order, so which copy survives does not depend on input order. Every drop names the kept sample.

Assembly computes a sample's `DedupKeys` when it reads the sample and lets the sample go; the pass
below then needs only the keys (a few hundred bytes a sample, shingles as a numpy array), so dedup
over the whole dataset never holds the samples themselves. Band buckets that only one sample falls
in are never stored (no other sample could look them up), which keeps the LSH index small.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, defaultdict
from functools import lru_cache
from dataclasses import dataclass
from typing import Sequence, TypeVar

import numpy as np

from magnet_core.dataset.config import DedupConfig
from magnet_core.dataset.rows import sample_payload
from magnet_core.dataset.text import canonical_call, content_hash, sample_id, sample_user_texts, stable_hash64, words
from magnet_core.domain import PreferencePair, Reject, Trajectory

STAGE = "dedup"
_PRIME = np.uint64((1 << 61) - 1)
_NO_SHINGLES = np.zeros(0, dtype=np.uint64)
Sample = TypeVar("Sample", Trajectory, PreferencePair)
Drop = tuple[int, str, str]  # (index of the dropped item, reason, detail)


class MinHasher:
    def __init__(self, num_perm: int, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, (1 << 61) - 1, size=num_perm, dtype=np.uint64)

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        values = shingles & np.uint64(0xFFFFFFFF)
        with np.errstate(over="ignore"):
            hashed = (values[:, None] * self.a[None, :] + self.b[None, :]) % _PRIME
        return hashed.min(axis=0)


def shingles(text: str, size: int) -> np.ndarray:
    """Sorted distinct hashes of the word `size`-grams (a text of `size` words or fewer is one gram)."""
    tokens = words(text)
    if not tokens:
        return _NO_SHINGLES
    if len(tokens) <= size:
        grams = {stable_hash64(" ".join(tokens))}
    else:
        grams = {stable_hash64(" ".join(tokens[i : i + size])) for i in range(len(tokens) - size + 1)}
    return np.unique(np.fromiter(grams, dtype=np.uint64, count=len(grams)))


@dataclass(frozen=True, slots=True)
class DedupKeys:
    """What dedup compares of one sample: digests of its content and queries, its query shingles and their
    MinHash signature (made here, where the sample is read - per shard, in parallel - not in the pass)."""

    content: bytes
    query: bytes | None  # queries + rejected side; None when the sample has no user text
    side: bytes  # a pair's rejected side (empty for trajectories)
    shingles: np.ndarray
    signature: np.ndarray | None = None  # None when there are no shingles


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


def dedup_keys(sample: Trajectory | PreferencePair, config: DedupConfig) -> DedupKeys:
    query, side = _query(sample), _side_key(sample)
    query_key = hashlib.sha256(f"{query}\0{side}".encode()).digest() if query else None
    grams = shingles(query, config.shingle_size)
    return DedupKeys(content=bytes.fromhex(_content_key(sample)), query=query_key, side=side.encode(), shingles=grams,
                     signature=_hasher(config.num_perm).signature(grams) if grams.size else None)


@lru_cache(maxsize=4)
def _hasher(num_perm: int) -> MinHasher:
    return MinHasher(num_perm)


def _shared_bands(order: list[int], keys: Sequence[DedupKeys], config: DedupConfig) -> dict[int, list[int]]:
    """Per item, the LSH band buckets it shares with at least one other item (bucket key: band << 32 | bucket)."""
    with_grams = [i for i in order if keys[i].shingles.size]
    if not with_grams:
        return {}
    rows = config.num_perm // config.bands
    signatures = np.stack([_signature_of(keys[i], config) for i in with_grams])
    shared: dict[int, list[int]] = {}
    for band in range(config.bands):
        part = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        _, bucket, sizes = np.unique(part.view(np.dtype((np.void, part.dtype.itemsize * rows))).reshape(-1),
                                     return_inverse=True, return_counts=True)
        bucket = bucket.reshape(-1)
        for position in np.flatnonzero(sizes[bucket] > 1).tolist():
            shared.setdefault(with_grams[position], []).append(band << 32 | int(bucket[position]))
    return shared


class _Shingles:
    """The shingles of every sample that shares a band bucket, as small ints in one flat array, and which of
    them are kept (by position in kept order). Templated queries put hundreds of samples in one bucket,
    so a sample's candidates are gathered and compared in a few vectorised steps, not a call each: its
    own shingles are marked in a table and the candidates' shingles looked up in it."""

    def __init__(self, members: list[int], keys: Sequence[DedupKeys]) -> None:
        sizes = np.array([keys[i].shingles.size for i in members], dtype=np.int64)
        everything = np.concatenate([keys[i].shingles for i in members]) if members else np.zeros(0, np.uint64)
        vocabulary, self.flat = np.unique(everything, return_inverse=True)
        self.flat = self.flat.reshape(-1)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])) if members else sizes
        self.span = {item: (int(start), int(size)) for item, start, size in zip(members, starts, sizes)}
        self.mark = np.zeros(vocabulary.size, dtype=bool)
        self.start = np.zeros(len(members), dtype=np.int64)  # by kept position
        self.size = np.zeros(len(members), dtype=np.int64)
        self.side = np.zeros(len(members), dtype=np.int64)
        self.sides: dict[bytes, int] = {}
        self.count = 0

    def add(self, item: int, key: DedupKeys) -> None:
        """`item` is kept: it becomes a candidate of the samples after it."""
        self.start[self.count], self.size[self.count] = self.span[item]
        self.side[self.count] = self.sides.setdefault(key.side, len(self.sides))
        self.count += 1

    def first_near(self, item: int, key: DedupKeys, candidates: list[int], threshold: float) -> tuple[int, float] | None:
        """The first of `candidates` (kept positions, ascending) with `key`'s rejected side whose shingle
        Jaccard with `item` reaches `threshold`, and that similarity."""
        chosen = np.array(candidates, dtype=np.int64)
        chosen = chosen[self.side[chosen] == self.sides.get(key.side, -1)]
        if not chosen.size:
            return None
        sizes = self.size[chosen]
        offsets = np.zeros(chosen.size, dtype=np.int64)
        np.cumsum(sizes[:-1], out=offsets[1:])
        values = self.flat[np.repeat(self.start[chosen] - offsets, sizes) + np.arange(offsets[-1] + sizes[-1])]
        start, size = self.span[item]
        mine = self.flat[start:start + size]
        self.mark[mine] = True
        common = np.add.reduceat(self.mark[values].astype(np.int64), offsets)
        self.mark[mine] = False
        similarity = common / (size + sizes - common)
        over = np.flatnonzero(similarity >= threshold)
        if not over.size:
            return None
        return int(chosen[over[0]]), float(similarity[over[0]])


_REMEMBERED: OrderedDict[bytes, tuple[list[int], list[Drop]]] = OrderedDict()  # the last results, by input digest
_REMEMBER = 2


def _inputs_digest(ids: Sequence[str], keys: Sequence[DedupKeys], config: DedupConfig) -> bytes:
    digest = hashlib.sha256(config.model_dump_json().encode())
    for item_id, key in zip(ids, keys, strict=True):
        for part in (item_id.encode(), key.content, key.query or b"", key.side, key.shingles.tobytes()):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
    return digest.digest()


def _signature_of(key: DedupKeys, config: DedupConfig) -> np.ndarray:
    if key.signature is not None and key.signature.size == config.num_perm:
        return key.signature
    return _hasher(config.num_perm).signature(key.shingles)


def deduplicate_keys(ids: Sequence[str], keys: Sequence[DedupKeys], config: DedupConfig) -> tuple[list[int], list[Drop]]:
    """Indices kept (in id order) and dropped, with reasons; `ids[i]` and `keys[i]` describe item i.

    A pure function of its inputs, and the sizing measure and assembly ask it the same question when no
    top-up round ran between them: the last results are remembered by a digest of the inputs (~1% of the pass)."""
    digest = _inputs_digest(ids, keys, config)
    if digest not in _REMEMBERED:
        _REMEMBERED[digest] = _deduplicate(ids, keys, config)
        while len(_REMEMBERED) > _REMEMBER:
            _REMEMBERED.popitem(last=False)
    _REMEMBERED.move_to_end(digest)
    kept, drops = _REMEMBERED[digest]
    return list(kept), list(drops)


def _deduplicate(ids: Sequence[str], keys: Sequence[DedupKeys], config: DedupConfig) -> tuple[list[int], list[Drop]]:
    order = sorted(range(len(ids)), key=ids.__getitem__)
    bands = _shared_bands(order, keys, config)
    by_query: dict[bytes, str] = {}
    by_content: dict[bytes, str] = {}
    buckets: dict[int, list[int]] = defaultdict(list)
    kept: list[int] = []
    shingles = _Shingles(list(bands), keys)  # only samples that share a bucket are ever compared
    bucketed: list[int] = []  # position in `shingles` -> position in `kept`
    drops: list[Drop] = []
    for i in order:
        key = keys[i]
        if key.content in by_content:
            drops.append((i, "duplicate_exact", f"same messages and tools as {by_content[key.content]}"))
            continue
        if key.query is not None and key.query in by_query:
            drops.append((i, "duplicate_exact", f"same user queries as {by_query[key.query]}"))
            continue
        mine = bands.get(i, ())
        candidates = sorted({k for band in mine for k in buckets.get(band, ())})
        match = shingles.first_near(i, key, candidates, config.near_threshold) if candidates else None
        if match is not None:
            drops.append((i, "duplicate_near", f"query Jaccard {match[1]:.2f} with {ids[kept[bucketed[match[0]]]]}"))
            continue
        by_content[key.content] = ids[i]
        if key.query is not None:
            by_query[key.query] = ids[i]
        kept.append(i)
        if mine:
            for band in mine:
                buckets[band].append(shingles.count)
            bucketed.append(len(kept) - 1)
            shingles.add(i, key)
    return kept, drops


def deduplicate(samples: Sequence[Sample], config: DedupConfig) -> tuple[list[Sample], list[Reject]]:
    """`deduplicate_keys` over in-memory samples: the kept samples and a `Reject` per drop."""
    if not config.enabled:
        return list(samples), []
    kept, drops = deduplicate_keys([sample_id(s) for s in samples], [dedup_keys(s, config) for s in samples], config)
    rejects = [Reject(stage=STAGE, item_id=sample_id(samples[i]), reason=reason, detail=detail, payload=sample_payload(samples[i]))
               for i, reason, detail in drops]
    return [samples[i] for i in kept], rejects
