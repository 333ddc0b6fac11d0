"""The persistent cache: a warm re-run makes zero HTTP calls; any change to the key inputs is a miss."""

from __future__ import annotations

from magnet_core.llm.cache import ResponseCache, cache_key
from magnet_core.llm.fake_server import FakeLLMServer, FakeServerConfig

from .conftest import make_client, model_for, request


async def test_second_run_with_warm_cache_makes_zero_http_calls(tmp_path):
    items = [request(i, prompt_version="teacher@1") for i in range(12)]
    async with FakeLLMServer(FakeServerConfig(prompt_tokens=50, completion_tokens=20)) as server:
        model = model_for(server, input_cost_per_mtok=1.0, output_cost_per_mtok=2.0)
        first = await make_client(tmp_path).complete_all(items, model)
        assert server.stats.chat_requests == 12
        server.reset()
        second_client = make_client(tmp_path)  # a new process would see exactly this: a fresh client, same dir
        second = await second_client.complete_all(items, model)
        assert server.stats.chat_requests == 0
    assert [r.content for r in second] == [r.content for r in first]
    assert all(r.cached and r.cost_usd == 0.0 for r in second)
    assert all(not r.cached and r.cost_usd > 0 for r in first)
    totals = second_client.totals()
    assert totals.run.cached_calls == 12 and totals.run.cost_usd == 0.0


async def test_prompt_version_sample_index_and_params_change_the_key(tmp_path):
    async with FakeLLMServer() as server:
        model = model_for(server)
        client = make_client(tmp_path)
        await client.complete(request(prompt_version="v1"), model)
        await client.complete(request(prompt_version="v1"), model)
        assert server.stats.chat_requests == 1
        await client.complete(request(prompt_version="v2"), model)
        await client.complete(request(prompt_version="v1", sample_index=1), model)
        await client.complete(request(prompt_version="v1", params={"temperature": 0.7}), model)
        await client.complete(request(prompt_version="v1"), model_for(server, name="other-model"))
        assert server.stats.chat_requests == 5
        # role and stage are bookkeeping, not inputs of the answer: same key
        await client.complete(request(prompt_version="v1", role="query_writer", stage="translate"), model)
        assert server.stats.chat_requests == 5


def test_key_ignores_endpoint_and_credentials_and_corrupt_entries_are_misses(tmp_path):
    from magnet_core.llm.types import ModelConfig

    a = ModelConfig(model="openai/m", api_base="http://127.0.0.1:1/v1", api_key_env="A")
    b = ModelConfig(model="openai/m", api_base="http://127.0.0.1:2/v1", api_key_env="B", max_concurrency=3)
    assert cache_key(request(), a) == cache_key(request(), b)
    cache = ResponseCache(tmp_path)
    key = cache_key(request(), a)
    cache.put(key, {"content": "hi", "model": "openai/m"})
    assert cache.get(key)["content"] == "hi"
    cache.path_for(key).write_text("{not json")
    assert cache.get(key) is None
    assert not list(tmp_path.rglob(".tmp-*"))  # atomic writes leave no temp files behind


async def test_failures_are_not_cached(tmp_path):
    async with FakeLLMServer(FakeServerConfig(schedule=("bad_request",))) as server:
        client = make_client(tmp_path)
        model = model_for(server)
        try:
            await client.complete(request(), model)
        except Exception:  # noqa: BLE001 - the failure itself is tested elsewhere
            pass
        response = await client.complete(request(), model)
        assert not response.cached and server.stats.chat_requests == 2


async def test_identical_calls_in_flight_together_pay_once(tmp_path):
    async with FakeLLMServer(FakeServerConfig(latency_s=0.05)) as server:
        client = make_client(tmp_path)
        results = await client.complete_all([request(7)] * 5, model_for(server))
        assert server.stats.chat_requests == 1
    assert len({r.content for r in results}) == 1
    assert sum(not r.cached for r in results) == 1
    assert client.totals().run.cached_calls == 4
