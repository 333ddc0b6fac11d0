"""Retries, fail-fast errors and the circuit breaker, through real litellm against the fake server."""

from __future__ import annotations

import time

import pytest

from magnet_core.llm.breaker import BreakerConfig
from magnet_core.llm.fake_server import FakeLLMServer, FakeServerConfig
from magnet_core.llm.types import CircuitOpenError, LLMPermanentError, LLMResponse, LLMTransientExhausted

from .conftest import make_client, model_for, request


async def test_rate_limit_storm_completes_every_item():
    storm = ("rate_limit",) * 40
    async with FakeLLMServer(FakeServerConfig(schedule=storm, retry_after_s=0.01)) as server:
        client = make_client()
        model = model_for(server, max_concurrency=8, max_retries=20)
        results = await client.complete_all([request(i) for i in range(24)], model)
        assert all(isinstance(r, LLMResponse) for r in results), results
        assert [r.content for r in results] == [f"echo[{r.content[5:17]}]: item {i}: please answer"
                                                for i, r in enumerate(results)]
        totals = client.totals()
        assert totals.run.retries == 40 == server.stats.by_fault["rate_limit"]
        assert server.stats.chat_requests == 24 + 40
        assert totals.run.failed_calls == 0
        assert client.limiter_snapshot(model).decreases >= 1


async def test_server_errors_and_malformed_bodies_are_retried():
    async with FakeLLMServer(FakeServerConfig(schedule=("server_error", "malformed", "server_error"))) as server:
        client = make_client()
        response = await client.complete(request(), model_for(server))
        assert response.retries == 3
        assert response.content.endswith("item 0: please answer")
        assert server.stats.chat_requests == 4


async def test_timeouts_are_retried():
    async with FakeLLMServer(FakeServerConfig(schedule=("hang", "hang"), hang_s=2.0)) as server:
        client = make_client()
        started = time.monotonic()
        response = await client.complete(request(), model_for(server, timeout_s=0.25))
        assert response.retries == 2
        assert time.monotonic() - started < 1.8  # the hangs were cut by the timeout, not waited out
        assert client.ledger.records[-1].status == "ok"


async def test_transient_failures_exhaust_retries_with_a_clear_error():
    async with FakeLLMServer(FakeServerConfig(schedule=("server_error",) * 10)) as server:
        client = make_client()
        with pytest.raises(LLMTransientExhausted, match="after 2 retries.*HTTP 500"):
            await client.complete(request(), model_for(server, max_retries=2))
        assert server.stats.chat_requests == 3
        assert client.ledger.records[-1].status == "failed"


async def test_bad_request_fails_fast_without_retries():
    async with FakeLLMServer(FakeServerConfig(schedule=("bad_request",))) as server:
        client = make_client()
        with pytest.raises(LLMPermanentError, match="not retried.*HTTP 400"):
            await client.complete(request(), model_for(server, max_retries=5))
        assert server.stats.chat_requests == 1
        assert client.ledger.records[-1].retries == 0


async def test_breaker_opens_after_repeated_failures_and_closes_after_cooldown():
    async with FakeLLMServer(FakeServerConfig(schedule=("server_error",) * 3)) as server:
        client = make_client(breaker=BreakerConfig(failure_threshold=3, cooldown_s=0.2))
        model = model_for(server, max_retries=10)
        with pytest.raises(CircuitOpenError, match="circuit open"):
            await client.complete(request(0), model)
        assert server.stats.chat_requests == 3
        with pytest.raises(CircuitOpenError):
            await client.complete(request(1), model)
        assert server.stats.chat_requests == 3  # refused before any HTTP
        assert client.ledger.records[-1].status == "refused"
        time.sleep(0.25)
        response = await client.complete(request(2), model)  # half-open probe succeeds (schedule is spent)
        assert response.retries == 0
        assert client.breaker_for(model).state.value == "closed"
        assert client.breaker_for(model).times_opened == 1
