"""Cost per call (override, litellm map, unpriced), totals, and the budget cap."""

from __future__ import annotations

import pytest

from magnet_core.llm.fake_server import FakeLLMServer, FakeServerConfig
from magnet_core.llm.litellm_loader import import_litellm
from magnet_core.llm.types import BudgetExceededError, LLMResponse

from .conftest import make_client, model_for, request

TOKENS = FakeServerConfig(prompt_tokens=1000, completion_tokens=500)


async def test_price_override_is_applied_per_call_and_in_totals():
    async with FakeLLMServer(TOKENS) as server:
        client = make_client()
        model = model_for(server, input_cost_per_mtok=2.0, output_cost_per_mtok=8.0)
        response = await client.complete(request(0, role="teacher", stage="distill"), model)
        await client.complete(request(1, role="query_writer", stage="translate"), model)
    assert response.prompt_tokens == 1000 and response.completion_tokens == 500
    assert response.cost_usd == pytest.approx((1000 * 2.0 + 500 * 8.0) / 1e6)
    totals = client.totals()
    assert totals.run.cost_usd == pytest.approx(2 * response.cost_usd)
    assert totals.by_role["teacher"].cost_usd == pytest.approx(response.cost_usd)
    assert totals.by_stage["translate"].calls == 1
    assert totals.by_model["openai/fake"].prompt_tokens == 2000


async def test_known_model_is_priced_from_litellm_map_and_unknown_is_flagged():
    async with FakeLLMServer(TOKENS) as server:
        client = make_client()
        known = await client.complete(request(), model_for(server, name="gpt-4o-mini"))
        unknown = await client.complete(request(), model_for(server, name="local-llama-no-price"))
    prompt_usd, completion_usd = import_litellm().cost_per_token(
        model="openai/gpt-4o-mini", prompt_tokens=1000, completion_tokens=500)
    assert known.cost_usd == pytest.approx(prompt_usd + completion_usd) and known.cost_usd > 0
    assert unknown.cost_usd == 0.0
    records = {r.model: r for r in client.ledger.records}
    assert records["openai/gpt-4o-mini"].priced is True
    assert records["openai/local-llama-no-price"].priced is False
    assert client.totals().run.unpriced_calls == 1


async def test_budget_cap_stops_new_calls_and_leaves_the_rest_resumable(tmp_path):
    per_call = (1000 * 1.0 + 500 * 2.0) / 1e6  # 0.002 USD
    items = [request(i) for i in range(20)]
    async with FakeLLMServer(TOKENS) as server:
        model = model_for(server, input_cost_per_mtok=1.0, output_cost_per_mtok=2.0, max_concurrency=2)
        client = make_client(tmp_path, max_cost_usd=0.01)
        results = await client.complete_all(items, model)
        done = [r for r in results if isinstance(r, LLMResponse)]
        refused = [r for r in results if isinstance(r, BudgetExceededError)]
        assert len(done) + len(refused) == 20
        # calls start only while spent < cap; at most the in-flight ones (concurrency 2) finish past it
        assert 5 <= len(done) <= 6
        assert server.stats.chat_requests == len(done)
        assert client.totals().run.cost_usd == pytest.approx(len(done) * per_call)
        assert client.totals().run.refused_calls == len(refused)
        with pytest.raises(BudgetExceededError, match="max_cost_usd"):
            await client.complete(request(99), model)
        assert server.stats.chat_requests == len(done)

        resumed = make_client(tmp_path, max_cost_usd=1.0)
        again = await resumed.complete_all(items, model)
        assert all(isinstance(r, LLMResponse) for r in again)
        assert server.stats.chat_requests == 20  # only the unfinished items paid; the rest came from cache
        assert sum(r.cached for r in again) == len(done)


async def test_cache_hits_are_served_past_the_cap(tmp_path):
    async with FakeLLMServer(TOKENS) as server:
        model = model_for(server, input_cost_per_mtok=1.0, output_cost_per_mtok=2.0)
        client = make_client(tmp_path, max_cost_usd=0.001)
        await client.complete(request(0), model)
        assert client.budget.exhausted
        hit = await client.complete(request(0), model)
        assert hit.cached and server.stats.chat_requests == 1
