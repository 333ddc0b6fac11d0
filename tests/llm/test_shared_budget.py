"""The run's spending cap and a model's concurrency limit hold across worker processes, not per process.

Two real processes, each with its own LLMClient (real litellm over HTTP to the fake server), share one
store: the run's total spend stays within the cap plus the calls in flight, and the server never sees
more calls at once than the model's `max_concurrency`. With per-process budgets each worker would spend
up to the cap (twice the cap in all) and the server would see twice the limit.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from multiprocessing.connection import Listener
from pathlib import Path

import pytest

from magnet_core.llm.budget import Budget
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.llm.shared_state import FileStore, RedisStore
from magnet_core.llm.types import BudgetExceededError

WORKER = Path(__file__).with_name("budget_worker.py")
CAP, PER_CALL, LIMIT, CALLS = 1.0, 0.10, 3, 30


def _run_two_workers(spec: str, url: str, prefix: str) -> list[dict]:
    authkey = secrets.token_bytes(16)
    with Listener(("127.0.0.1", 0), authkey=authkey) as listener:
        port = listener.address[1]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        workers = [subprocess.Popen([sys.executable, str(WORKER), str(port), authkey.hex(), spec, url, str(CAP), str(CALLS), tag, prefix],
                                    env=env) for tag in ("a", "b")]
        try:
            connections = [listener.accept() for _ in workers]
            assert [c.recv() for c in connections] == ["ready", "ready"]
            for connection in connections:
                connection.send("go")  # both start calling together
            reports = [c.recv() for c in connections]
        finally:
            for worker in workers:
                assert worker.wait(timeout=120) == 0
    return reports


@pytest.mark.parametrize("store", ["file"])  # the Redis store: same protocol, checked below
def test_budget_and_admission_hold_across_two_worker_processes(tmp_path, store):
    spec = f"file:{tmp_path / 'shared'}" if store == "file" else "redis://127.0.0.1:6379/0"
    prefix = f"magnet-test:{secrets.token_hex(6)}"  # this test's own keys
    with FakeServerThread(FakeServerConfig(prompt_tokens=1000, completion_tokens=0, latency_s=0.05)) as server:
        try:
            reports = _run_two_workers(spec, server.url, prefix)
        finally:
            _drop_keys(prefix) if store == "redis" else None
        stats = server.stats
    assert not any(r["other_errors"] for r in reports), reports
    total = sum(r["spent"] for r in reports)
    in_flight_bound = LIMIT * PER_CALL  # at most LIMIT calls were on the wire when the cap was reached
    assert total <= CAP + in_flight_bound + 1e-9, reports
    assert total >= CAP - 1e-9, "the cap was reached"
    assert sum(r["refused"] for r in reports) >= 2 * CALLS - (CAP + in_flight_bound) / PER_CALL - 1e-9
    assert stats.chat_requests * PER_CALL <= CAP + in_flight_bound + 1e-9
    assert stats.max_in_flight <= LIMIT, f"{stats.max_in_flight} calls at once across processes; limit {LIMIT}"


def _drop_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_file_and_redis_stores_count_the_same_way(tmp_path):
    """Both stores add spend atomically and hand out at most `limit` slots; a released slot is free again."""
    prefix = f"magnet-test:{secrets.token_hex(6)}"
    stores = [FileStore(tmp_path / "s"), RedisStore("redis://127.0.0.1:6379/0", prefix)]
    try:
        _exercise(stores)
    finally:
        _drop_keys(prefix)


def _exercise(stores) -> None:
    for store in stores:
        budget = Budget(0.25, store)
        budget.add(0.1)
        Budget(0.25, store).add(0.2)  # another process's budget over the same store
        with pytest.raises(BudgetExceededError):
            budget.check()
        leases = [store.try_slot("m", 2), store.try_slot("m", 2)]
        assert all(leases) and store.try_slot("m", 2) is None
        store.release(leases[0])
        assert store.try_slot("m", 2) is not None
