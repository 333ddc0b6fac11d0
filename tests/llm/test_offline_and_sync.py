"""Offline import of litellm, the sync helper, the Parquet ledger and the CLI server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq

from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.llm.types import LLMError, LLMResponse

from .conftest import make_client, model_for, request

REPO = Path(__file__).resolve().parents[2]

_NO_NETWORK_PROBE = r"""
import os, socket, sys
attempts = []
real_connect = socket.socket.connect
def guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else str(address)
    if host not in ("127.0.0.1", "::1", "localhost"):
        attempts.append(host)
        raise OSError("network disabled in this test")
    return real_connect(self, address)
socket.socket.connect = guarded_connect
real_getaddrinfo = socket.getaddrinfo
def guarded_getaddrinfo(host, *args, **kwargs):
    if host not in ("127.0.0.1", "::1", "localhost", None):
        attempts.append(host)
        raise OSError("dns disabled in this test")
    return real_getaddrinfo(host, *args, **kwargs)
socket.getaddrinfo = guarded_getaddrinfo
from magnet_core.llm.litellm_loader import import_litellm
litellm = import_litellm()
assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
assert len(litellm.model_cost) > 100, "bundled cost map not loaded"
from magnet_core.llm.client import LLMClient
from magnet_core.llm.types import LLMRequest, ModelConfig
client = LLMClient()
model = ModelConfig(model="openai/fake", api_base=sys.argv[1], timeout_s=10)
response = client.complete_many([LLMRequest(role="r", messages=({"role": "user", "content": "hi"},))], model)[0]
assert response.content.startswith("echo["), response
print("ATTEMPTS", attempts)
"""


def test_litellm_import_and_first_call_never_touch_the_network():
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    with FakeServerThread() as server:
        done = subprocess.run([sys.executable, "-c", _NO_NETWORK_PROBE, server.url], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=120)
        assert server.stats.chat_requests == 1
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ATTEMPTS []" in done.stdout, done.stdout


def test_complete_many_sync_helper_and_parquet_ledger(tmp_path):
    with FakeServerThread(FakeServerConfig(schedule=(None, "bad_request"))) as server:
        client = make_client(tmp_path / "cache")
        results = client.complete_many([request(i, stage="translate") for i in range(4)], model_for(server))
        results += client.complete_many([request(0, stage="translate")], model_for(server))  # a second loop
    assert sum(isinstance(r, LLMResponse) for r in results) == 4
    assert sum(isinstance(r, LLMError) for r in results) == 1
    assert results[-1].cached
    rows = pq.read_table(client.write_ledger(tmp_path / "ledger.parquet")).to_pylist()
    assert len(rows) == 5
    assert sorted(r["status"] for r in rows) == ["cached", "failed", "ok", "ok", "ok"]
    assert all(r["stage"] == "translate" and len(r["cache_key"]) == 64 for r in rows)


def _serve_cli(*options: str) -> tuple[subprocess.Popen, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "magnet_core.cli.main", "fake-llm", "--port", str(port),
                                *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    banner = process.stdout.readline() + process.stdout.readline()
    assert "test double" in banner and f"127.0.0.1:{port}/v1" in banner, banner
    return process, port


def _ask(port: int, content: str) -> dict:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]}).encode()
    reply = urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions", data=body, headers={"Content-Type": "application/json"}),
        timeout=10)
    return json.loads(reply.read())["choices"][0]["message"]


def test_cli_serves_the_fake_llm_in_hint_and_script_modes(tmp_path):
    process, port = _serve_cli("--mode", "hint")
    try:
        message = _ask(port, '<reference_calls>[ls(a=True)]</reference_calls>')
        assert message["tool_calls"][0]["function"] == {"name": "ls", "arguments": '{"a": true}'}
    finally:
        process.terminate()
        process.wait(timeout=30)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"pattern": "^hello", "content": "scripted hello"}]))
    process, port = _serve_cli("--mode", "script", "--script-file", str(rules))
    try:
        assert _ask(port, "hello there")["content"] == "scripted hello"
        assert _ask(port, "bye")["content"].startswith("echo[")
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_one_client_shared_by_threads_with_their_own_loops():
    from concurrent.futures import ThreadPoolExecutor

    with FakeServerThread(FakeServerConfig(latency_s=0.02)) as server:
        client = make_client()
        model = model_for(server, max_concurrency=4)
        with ThreadPoolExecutor(max_workers=3) as pool:
            batches = list(pool.map(lambda b: client.complete_many([request(b * 100 + i) for i in range(8)], model),
                                    range(3)))
        assert server.stats.chat_requests == 24
    assert all(isinstance(r, LLMResponse) for batch in batches for r in batch)
    assert client.totals().run.calls == 24
