"""A local OpenAI-compatible server: the test double for the network, owned by the project.

Tests and benchmarks run the real litellm client over real HTTP against it on 127.0.0.1, so retries,
Retry-After, timeouts, auth failures and the cache are exercised end to end without a paid API. It
counts every request (`GET /stats`) so a test can prove that a warm cache made zero HTTP calls.
It is never a part of the factory itself: it answers from rules (`echo`, `script`, `hint`, `roles`), not
a model. It also counts the tokens it reports per answer, so a test can hold the client's ledger to them.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from aiohttp import web

from magnet_core.llm.fake_answers import Answer, AnswerRules, answer_for, bad_answer, prompt_text
from magnet_core.llm.fake_roles import RoleMemory, role_answer

Fault = Literal["rate_limit", "server_error", "bad_request", "hang", "malformed", "unknown_function", "truncated",
                "revoked_key"]
FAULTS: tuple[str, ...] = ("rate_limit", "server_error", "bad_request", "hang", "malformed", "unknown_function",
                           "truncated", "revoked_key")


@dataclass(frozen=True)
class FakeServerConfig:
    """Everything the server does is decided here; swap it at run time with `FakeLLMServer.configure`.

    `schedule[i]` is the fault (or None) for the i-th chat request since the last reset; requests past
    the schedule draw from `fault_rates` (probabilities, seeded so a run is reproducible).
    """

    latency_s: float = 0.0
    answers: AnswerRules = field(default_factory=AnswerRules)
    schedule: tuple[str | None, ...] = ()
    fault_rates: tuple[tuple[str, float], ...] = ()
    retry_after_s: float | None = 0.01
    hang_s: float = 30.0
    api_key: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model_name: str = "fake-model"
    known_models: tuple[str, ...] = ()  # non-empty: any other model gets 404, as a real server answers
    kill_at: tuple[int, int] | None = None  # (pid, n): SIGKILL pid when request n arrives (crash tests), no answer
    seed: int = 0
    record_requests: bool = False  # keep every chat request body for `POST /requests/take` (benchmarks replay them)

    def __post_init__(self) -> None:
        unknown = {f for f in self.schedule if f is not None} | {f for f, _ in self.fault_rates}
        if unknown - set(FAULTS):
            raise ValueError(f"unknown fault kinds {sorted(unknown - set(FAULTS))}; known: {FAULTS}")


@dataclass
class ServerStats:
    """Counters read by tests; `chat_requests` counts every POST to /v1/chat/completions."""

    chat_requests: int = 0
    by_path: Counter = field(default_factory=Counter)
    by_fault: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    answered: int = 0  # 200 answers with a usage block: what a client pays for
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_role: Counter = field(default_factory=Counter)
    by_bad_answer: Counter = field(default_factory=Counter)
    first_request_s: float | None = None  # time.time() of the first chat request and of the last answer:
    last_answer_s: float | None = None  # the window in which a client kept the server busy

    def as_dict(self) -> dict[str, Any]:
        return {"chat_requests": self.chat_requests, "by_path": dict(self.by_path), "by_fault": dict(self.by_fault),
                "by_status": {str(k): v for k, v in self.by_status.items()}, "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight, "answered": self.answered, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "by_role": dict(self.by_role),
                "by_bad_answer": dict(self.by_bad_answer), "first_request_s": self.first_request_s,
                "last_answer_s": self.last_answer_s}


class FakeLLMServer:
    """In-process server: `async with FakeLLMServer(config) as server: ... server.url ...`."""

    def __init__(self, config: FakeServerConfig | None = None, host: str = "127.0.0.1", port: int = 0):
        self.config = config or FakeServerConfig()
        self.host, self.port = host, port
        self.stats = ServerStats()
        self._rng = random.Random(self.config.seed)
        self._runner: web.AppRunner | None = None
        self.memory = RoleMemory()  # the `roles` mode's query -> calls memory; kept across `reset`
        self.recorded: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        """The `api_base` for litellm (`openai/<name>` model strings)."""
        return f"http://{self.host}:{self.port}/v1"

    def configure(self, **changes: Any) -> None:
        self.config = replace(self.config, **changes)

    def reset(self) -> None:
        self.stats = ServerStats()
        self._rng = random.Random(self.config.seed)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/stats", self._stats)
        app.router.add_post("/stats/reset", self._reset)
        app.router.add_post("/requests/take", self._take_requests)
        return app

    async def start(self) -> "FakeLLMServer":
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeLLMServer":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _models(self, request: web.Request) -> web.Response:
        self.stats.by_path[request.path] += 1
        return web.json_response({"object": "list", "data": [{"id": self.config.model_name, "object": "model"}]})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.as_dict())

    async def _take_requests(self, request: web.Request) -> web.Response:
        taken, self.recorded = self.recorded, []
        return web.json_response({"requests": taken})

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        stats, config = self.stats, self.config
        index = stats.chat_requests
        stats.chat_requests += 1
        if stats.first_request_s is None:
            stats.first_request_s = time.time()
        stats.by_path[request.path] += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            response = await self._answer(request, config, index)
        finally:
            stats.in_flight -= 1
        stats.by_status[response.status] += 1
        stats.last_answer_s = time.time()
        return response

    async def _answer(self, request: web.Request, config: FakeServerConfig, index: int) -> web.StreamResponse:
        if config.api_key is not None and request.headers.get("Authorization") != f"Bearer {config.api_key}":
            return _error(401, "invalid_api_key", "Incorrect API key provided.")
        try:
            body = await request.json()
            messages = list(body["messages"])
        except (json.JSONDecodeError, KeyError, TypeError):
            return _error(400, "invalid_request_error", "body must be JSON with a 'messages' list")
        if config.known_models and str(body.get("model")) not in config.known_models:
            return _error(404, "model_not_found", f"The model `{body.get('model')}` does not exist.")
        if config.kill_at is not None and index == config.kill_at[1]:
            os.kill(config.kill_at[0], signal.SIGKILL)  # requests before this one were answered, this one never is
            return _error(503, "killed", "client killed by the test")
        if config.record_requests:
            self.recorded.append(body)
        fault = self._fault_for(index, config)
        if fault is not None:
            self.stats.by_fault[fault] += 1
        if config.latency_s:
            await asyncio.sleep(config.latency_s)
        if fault == "rate_limit":
            headers = {"Retry-After": f"{config.retry_after_s:g}"} if config.retry_after_s is not None else {}
            return _error(429, "rate_limit_exceeded", "Rate limit reached, slow down.", headers)
        if fault == "revoked_key":  # the key worked for earlier requests (preflight) and is refused from now on
            return _error(401, "invalid_api_key", "Incorrect API key provided.")
        if fault == "server_error":
            return _error(500, "server_error", "The server had an error processing the request.")
        if fault == "bad_request":
            return _error(400, "invalid_request_error", "Invalid request: injected bad request.")
        if fault == "hang":
            await asyncio.sleep(config.hang_s)
        if fault == "malformed":
            return web.Response(status=200, text='{"id": "chatcmpl-broken", "choices": [{"mess',
                                content_type="application/json")
        role = None
        if config.answers.mode == "roles":
            role, answer = role_answer(body, messages, self.memory)
            self.stats.by_role[role] += 1
        else:
            answer = answer_for(messages, config.answers)
        kind, answer = bad_answer(body, answer, config.answers, role)
        if kind is not None:
            self.stats.by_bad_answer[kind] += 1
        if fault == "unknown_function":
            answer = Answer(content=None, finish_reason="tool_calls", tool_calls=({
                "id": "call_0", "type": "function",
                "function": {"name": "function_that_does_not_exist", "arguments": "{}"}},))
        if fault == "truncated":
            text = answer.content or json.dumps([c["function"] for c in answer.tool_calls])
            answer = Answer(content=text[: max(1, len(text) // 2)], finish_reason="length")
        completion = self._completion(body, messages, answer, config, index)
        self.stats.answered += 1
        self.stats.prompt_tokens += completion["usage"]["prompt_tokens"]
        self.stats.completion_tokens += completion["usage"]["completion_tokens"]
        return web.json_response(completion)

    def _fault_for(self, index: int, config: FakeServerConfig) -> str | None:
        if index < len(config.schedule):
            return config.schedule[index]
        for fault, rate in config.fault_rates:
            if self._rng.random() < rate:
                return fault
        return None

    @staticmethod
    def _completion(body: dict[str, Any], messages: list[dict[str, Any]], answer: Answer,
                    config: FakeServerConfig, index: int) -> dict[str, Any]:
        prompt_tokens = config.prompt_tokens if config.prompt_tokens is not None else len(prompt_text(messages)) // 4 + 1
        completion_tokens = (config.completion_tokens if config.completion_tokens is not None
                             else len(answer.content or json.dumps(list(answer.tool_calls))) // 4 + 1)
        message: dict[str, Any] = {"role": "assistant", "content": answer.content}
        if answer.tool_calls:
            message["tool_calls"] = list(answer.tool_calls)
        return {
            "id": f"chatcmpl-fake-{index}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", config.model_name),
            "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    payload = {"error": {"message": message, "type": code, "code": code}}
    return web.json_response(payload, status=status, headers=headers)


class FakeServerThread:
    """The same server on its own event loop in a daemon thread, for sync code and benchmarks.

    A separate loop keeps the server's work off the client's loop, so a benchmark measures the client.
    """

    def __init__(self, config: FakeServerConfig | None = None, host: str = "127.0.0.1", port: int = 0):
        self.server = FakeLLMServer(config, host, port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-llm-server", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def stats(self) -> ServerStats:
        return self.server.stats

    @property
    def memory(self) -> RoleMemory:
        """The `roles` mode's memory: the queries its query writer wrote."""
        return self.server.memory

    def start(self) -> "FakeServerThread":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=30)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    def __enter__(self) -> "FakeServerThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
