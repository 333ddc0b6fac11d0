"""Run-wide LLM state that every worker process sees: money spent, and calls in flight per model.

A run whose shards run on several processes (Dask workers) has one spending cap and, per model, one
concurrency limit; an in-process counter would give each worker its own. Two stores:

- `FileStore(directory)`: one machine (a local Dask cluster, or threads). The spend is a number in a
  file updated under an exclusive `flock`; a call slot is an `flock` on one of `limit` slot files, so a
  worker that dies mid-call gives its slots back with its file descriptors - nothing to clean up.
- `RedisStore(url, prefix)`: workers on several machines (an existing Dask cluster). The spend is an
  `INCRBYFLOAT`; a slot is a `SET NX` key with a lease longer than any call (`lease_s`), so a dead
  worker's slot frees itself when the lease runs out.

`store_for(spec, default_dir)` picks one from a setting: None -> a FileStore in `default_dir`.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

POLL_S = (0.002, 0.05)  # wait between slot attempts: first, and at most (doubling)


@dataclass
class SlotLease:
    """A held call slot; `release` gives it back (idempotent)."""

    name: str
    index: int
    handle: Any = field(default=None, repr=False)
    released: bool = False


class SharedStore(Protocol):
    def spent(self) -> float: ...
    def add_spend(self, usd: float) -> float: ...
    def try_slot(self, name: str, limit: int) -> SlotLease | None: ...
    def release(self, lease: SlotLease) -> None: ...


async def acquire_slot(store: SharedStore, name: str, limit: int) -> SlotLease:
    """Wait until one of `limit` slots of `name` is free across every process of the run, then hold it."""
    delay = POLL_S[0]
    while True:
        lease = store.try_slot(name, limit)
        if lease is not None:
            return lease
        await asyncio.sleep(delay)
        delay = min(POLL_S[1], delay * 2)


def _slug(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


class FileStore:
    """Spend and slots as files under one directory (processes of one machine, or one shared mount).

    Per process, the slot files and the spend lock stay open once opened (a call then costs one `flock`,
    not a `mkdir` and up to `limit` opens), and a thread lock guards them: `flock`s taken through one open
    file do not exclude each other, so the slots this process holds are skipped by index and the spend
    lock is taken by one thread at a time. A dying process still gives every slot back with its files."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._spend = self.directory / "spent_usd"
        self._local = threading.Lock()
        self._spend_lock: Any = None
        self._slot_files: dict[tuple[str, int], Any] = {}
        self._held: set[tuple[str, int]] = set()

    def __reduce__(self):  # a store travels to worker processes as its address, never as open files
        return (FileStore, (str(self.directory),))

    def spent(self) -> float:
        with self._local:
            fcntl.flock(self._lock_file(), fcntl.LOCK_SH)
            try:
                return self._read()
            finally:
                fcntl.flock(self._spend_lock, fcntl.LOCK_UN)

    def add_spend(self, usd: float) -> float:
        with self._local:
            fcntl.flock(self._lock_file(), fcntl.LOCK_EX)
            try:
                total = self._read() + usd
                temporary = self._spend.with_suffix(f".{os.getpid()}.tmp")
                temporary.write_text(repr(total))
                temporary.replace(self._spend)
                return total
            finally:
                fcntl.flock(self._spend_lock, fcntl.LOCK_UN)

    def _lock_file(self) -> Any:
        if self._spend_lock is None:
            self._spend_lock = open(self.directory / "spent.lock", "a+")
        return self._spend_lock

    def _read(self) -> float:
        try:
            return float(self._spend.read_text() or 0.0)
        except FileNotFoundError:
            return 0.0

    def try_slot(self, name: str, limit: int) -> SlotLease | None:
        slug = _slug(name)
        with self._local:
            for index in range(limit):
                if (slug, index) in self._held:
                    continue
                handle = self._slot_files.get((slug, index))
                if handle is None:
                    folder = self.directory / "slots" / slug
                    folder.mkdir(parents=True, exist_ok=True)
                    handle = self._slot_files[(slug, index)] = open(folder / f"{index}.lock", "a+")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                self._held.add((slug, index))
                return SlotLease(name, index, handle)
        return None

    def release(self, lease: SlotLease) -> None:
        with self._local:
            if lease.released:
                return
            lease.released = True
            fcntl.flock(lease.handle, fcntl.LOCK_UN)
            self._held.discard((_slug(lease.name), lease.index))


class RedisStore:
    """Spend and slots in Redis (workers on several machines). Slot keys carry a lease of `lease_s`."""

    def __init__(self, url: str, prefix: str, lease_s: int = 900):
        self.url, self.prefix, self.lease_s = url, prefix, lease_s
        self._client: Any = None

    def __reduce__(self):
        return (RedisStore, (self.url, self.prefix, self.lease_s))

    @property
    def client(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.url)
        return self._client

    def spent(self) -> float:
        return float(self.client.get(f"{self.prefix}:spent_usd") or 0.0)

    def add_spend(self, usd: float) -> float:
        key = f"{self.prefix}:spent_usd"
        with self.client.pipeline() as pipe:  # one round trip; the run's keys go away a week after its last call
            total, _ = pipe.incrbyfloat(key, usd).expire(key, 7 * 24 * 3600).execute()
        return float(total)

    def try_slot(self, name: str, limit: int) -> SlotLease | None:
        token = uuid.uuid4().hex
        for index in range(limit):
            key = f"{self.prefix}:slot:{_slug(name)}:{index}"
            if self.client.set(key, token, nx=True, ex=self.lease_s):
                return SlotLease(name, index, (key, token))
        return None

    def release(self, lease: SlotLease) -> None:
        if lease.released:
            return
        lease.released = True
        key, token = lease.handle
        # delete only our own lease: after an expiry the key may belong to another call
        self.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
                         1, key, token)


def store_for(spec: str | None, default_dir: str | Path, prefix: str = "magnet") -> SharedStore:
    """`spec`: None or "file" -> FileStore(default_dir); "file:/path" -> FileStore(path);
    "redis://host:port/db" -> RedisStore(spec, prefix)."""
    if spec is None or spec == "file":
        return FileStore(default_dir)
    if spec.startswith("file:"):
        return FileStore(spec[len("file:"):])
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(spec, prefix)
    raise ValueError(f"unknown shared store {spec!r}: use file, file:/path or redis://host:port/db")
