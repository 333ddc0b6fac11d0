"""Auth errors fail fast, and the API key never reaches the ledger, the cache, logs or error messages."""

from __future__ import annotations

import logging

import pyarrow.parquet as pq
import pytest

from magnet_core.llm.fake_server import FakeLLMServer, FakeServerConfig
from magnet_core.llm.types import LLMPermanentError

from .conftest import make_client, model_for, request

SENTINEL = "sk-sentinel-7f3a9c2e51d84b6aa0c1"
GOOD_KEY = "sk-good-key-0123456789abcdef"


def _all_text_under(path) -> str:
    return "".join(p.read_text(errors="replace") for p in path.rglob("*") if p.is_file())


async def test_wrong_key_fails_fast_and_leaks_nowhere(tmp_path, monkeypatch, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MAGNET_TEST_KEY", SENTINEL)
    async with FakeLLMServer(FakeServerConfig(api_key=GOOD_KEY)) as server:
        client = make_client(tmp_path / "cache")
        model = model_for(server, api_key_env="MAGNET_TEST_KEY", max_retries=5)
        with pytest.raises(LLMPermanentError, match="HTTP 401") as caught:
            await client.complete(request(), model)
        assert server.stats.chat_requests == 1  # no retry of an auth failure
        assert server.stats.by_status[401] == 1
    ledger = client.write_ledger(tmp_path / "ledger.parquet")
    out, err = capfd.readouterr()
    surfaces = {
        "exception": str(caught.value) + repr(caught.value),
        "ledger": str(pq.read_table(ledger).to_pylist()) + ledger.read_bytes().decode("latin-1"),
        "cache": _all_text_under(tmp_path / "cache"),
        "logs": caplog.text,
        "stdio": out + err,
        "model_config": repr(model) + model.model_dump_json(),
    }
    for name, text in surfaces.items():
        assert SENTINEL not in text, name
        assert SENTINEL[:8] + SENTINEL[8:16] not in text, name


async def test_right_key_is_sent_and_never_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGNET_TEST_KEY", GOOD_KEY)
    async with FakeLLMServer(FakeServerConfig(api_key=GOOD_KEY)) as server:
        client = make_client(tmp_path)
        response = await client.complete(request(), model_for(server, api_key_env="MAGNET_TEST_KEY"))
        assert response.content and server.stats.by_status[200] == 1
    assert len(list(tmp_path.rglob("*.json"))) == 1
    assert GOOD_KEY not in _all_text_under(tmp_path)
    assert server.url not in _all_text_under(tmp_path)


async def test_missing_key_variable_fails_before_any_http(monkeypatch):
    monkeypatch.delenv("MAGNET_TEST_MISSING_KEY", raising=False)
    async with FakeLLMServer() as server:
        client = make_client()
        with pytest.raises(LLMPermanentError, match="MAGNET_TEST_MISSING_KEY"):
            await client.complete(request(), model_for(server, api_key_env="MAGNET_TEST_MISSING_KEY"))
        assert server.stats.chat_requests == 0


def test_redaction_covers_masked_keys_bearer_headers_and_url_credentials():
    from magnet_core.llm.redaction import redact

    text = (f"Incorrect API key provided: {SENTINEL[:8]}****{SENTINEL[-6:]}; header Authorization: Bearer {SENTINEL}; "
            "url https://alice:hunter2@llm.example.com/v1")
    scrubbed = redact(text, (SENTINEL,))
    assert SENTINEL[:8] not in scrubbed and SENTINEL[-6:] not in scrubbed and SENTINEL not in scrubbed
    assert "hunter2" not in scrubbed and "llm.example.com/v1" in scrubbed
