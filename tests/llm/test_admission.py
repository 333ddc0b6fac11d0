"""Adaptive concurrency: shrinks under 429s, honours Retry-After, grows back on success, reacts to latency."""

from __future__ import annotations

import asyncio

from magnet_core.llm.admission import AdaptiveLimiter, AdmissionConfig, Outcome
from magnet_core.llm.fake_server import FakeLLMServer, FakeServerConfig
from magnet_core.llm.types import LLMResponse

from .conftest import make_client, model_for, request


async def test_limit_shrinks_under_429_and_grows_back_on_success():
    async with FakeLLMServer(FakeServerConfig(schedule=("rate_limit",) * 30, retry_after_s=0.005,
                                              latency_s=0.002)) as server:
        client = make_client(admission=AdmissionConfig(latency_signal=False))
        model = model_for(server, max_concurrency=16, max_retries=30)
        storm = await client.complete_all([request(i) for i in range(16)], model)
        assert all(isinstance(r, LLMResponse) for r in storm)
        after_storm = client.limiter_snapshot(model)
        assert after_storm.limit < 16 and after_storm.decreases >= 1
        calm = await client.complete_all([request(100 + i) for i in range(150)], model)
        assert all(isinstance(r, LLMResponse) for r in calm)
        after_calm = client.limiter_snapshot(model)
        assert after_calm.limit > after_storm.limit and after_calm.increases >= 1
        assert server.stats.max_in_flight <= 16


async def test_retry_after_pauses_every_caller():
    limiter = AdaptiveLimiter(4)
    permit = await limiter.acquire()
    limiter.release(permit, Outcome.RATE_LIMITED)
    limiter.pause(0.15)
    loop = asyncio.get_running_loop()
    started = loop.time()
    second = await limiter.acquire()
    assert loop.time() - started >= 0.14
    assert limiter.snapshot().limit == 2.0
    limiter.release(second, Outcome.OK)


async def test_one_burst_of_429s_cuts_the_limit_once():
    limiter = AdaptiveLimiter(16)
    permits = [await limiter.acquire() for _ in range(8)]
    for permit in permits:
        limiter.release(permit, Outcome.RATE_LIMITED)
    assert limiter.snapshot().limit == 8.0 and limiter.snapshot().decreases == 1


async def test_latency_spike_shrinks_the_limit_without_any_429():
    limiter = AdaptiveLimiter(32, AdmissionConfig(latency_min_samples=5, latency_factor=2.0))
    for _ in range(40):
        limiter.release(await limiter.acquire(), Outcome.OK, latency_s=0.1)
    assert limiter.snapshot().limit == 32.0
    for _ in range(40):
        limiter.release(await limiter.acquire(), Outcome.OK, latency_s=1.0)
    assert limiter.snapshot().limit < 32.0 and limiter.snapshot().decreases >= 1


async def test_waiters_are_admitted_in_order_and_cancellation_frees_the_slot():
    limiter = AdaptiveLimiter(1)
    first = await limiter.acquire()
    order: list[int] = []

    async def waiter(index: int) -> None:
        permit = await limiter.acquire()
        order.append(index)
        limiter.release(permit, Outcome.OK)

    tasks = [asyncio.create_task(waiter(i)) for i in range(3)]
    cancelled = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0.01)
    cancelled.cancel()
    limiter.release(first, Outcome.OK)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]
    assert limiter.snapshot().in_flight == 0


async def test_mixed_answer_lengths_do_not_look_like_queueing():
    limiter = AdaptiveLimiter(32, AdmissionConfig(latency_min_samples=5))
    for index in range(200):
        limiter.release(await limiter.acquire(), Outcome.OK, latency_s=0.05 if index % 2 else 1.0)
    assert limiter.snapshot().decreases == 0 and limiter.snapshot().limit == 32.0


async def test_server_that_queues_instead_of_429_shrinks_the_limit():
    async with FakeLLMServer(FakeServerConfig(latency_s=0.02)) as server:
        client = make_client(admission=AdmissionConfig(latency_min_samples=10))
        model = model_for(server, max_concurrency=8)
        await client.complete_all([request(i) for i in range(100)], model)
        assert client.limiter_snapshot(model).limit == 8
        server.configure(latency_s=0.3)  # like vLLM under load: slower answers, never a 429
        await client.complete_all([request(1000 + i) for i in range(32)], model)
        assert server.stats.by_status.get(429, 0) == 0
    # a cut on the change of latency (the additive increase may already have crept back since)
    assert client.limiter_snapshot(model).decreases >= 1


async def test_cancelled_calls_free_their_slots_and_write_nothing(tmp_path):
    async with FakeLLMServer(FakeServerConfig(latency_s=1.0)) as server:
        client = make_client(tmp_path)
        model = model_for(server, max_concurrency=2)
        tasks = [asyncio.create_task(client.complete(request(i), model)) for i in range(5)]
        await asyncio.sleep(0.3)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        snapshot = client.limiter_snapshot(model)
        assert snapshot.in_flight == 0 and snapshot.waiting == 0
        assert not list(tmp_path.rglob("*.json"))  # nothing half-written into the cache
        server.configure(latency_s=0.0)
        assert (await client.complete(request(0), model)).content
