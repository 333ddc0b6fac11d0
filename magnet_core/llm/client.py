"""`LLMClient`: the one client every role shares, over `litellm.acompletion`.

Order of checks per call, cheapest and most final first: cache (free, allowed past the budget cap),
budget (no HTTP after the cap), circuit breaker (no HTTP to a model that keeps failing), admission
(adaptive concurrency per model), then the HTTP call with retries on transient failures only.
Everything a call did lands in one `CallRecord`; API keys are read from the environment at call time
and scrubbed from every message we produce.
"""

from __future__ import annotations

import asyncio
import os
import random
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from magnet_core.llm.admission import AdaptiveLimiter, AdmissionConfig, LimiterSnapshot, Outcome
from magnet_core.llm.breaker import BreakerConfig, CircuitBreaker
from magnet_core.llm.budget import Budget
from magnet_core.llm.shared_state import SharedStore
from magnet_core.llm.cache import ResponseCache, cache_key
from magnet_core.llm.cost import CostCalculator
from magnet_core.llm.ledger import CallRecord, Ledger, Totals
from magnet_core.llm.answer import read_answer
from magnet_core.llm.litellm_loader import import_litellm
from magnet_core.llm.retry import FailureKind, RetryPolicy, classify, is_setup_failure, retry_after_seconds, status_code
from magnet_core.llm.redaction import redact
from magnet_core.llm.types import (
    CircuitOpenError,
    LLMError,
    LLMRequest,
    LLMRequestError,
    LLMResponse,
    LLMSetupError,
    LLMTransientExhausted,
    ModelConfig,
)

NO_KEY_PLACEHOLDER = "no-key-required"


@dataclass
class _ModelState:
    """One breaker per model endpoint; one limiter per event loop, since admission waits on loop futures.

    Callers on separate loops (sync helpers, worker threads) thus get separate concurrency bounds.
    """

    breaker: CircuitBreaker
    limiters: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)
    last_limiter: AdaptiveLimiter | None = None


class LLMClient:
    def __init__(self, cache_dir: Path | None = None, max_cost_usd: float | None = None, *,
                 retry: RetryPolicy | None = None, admission: AdmissionConfig | None = None,
                 breaker: BreakerConfig | None = None, seed: int = 0):
        self.cache = ResponseCache(cache_dir) if cache_dir is not None else None
        self.budget = Budget(max_cost_usd)
        self.shared: SharedStore | None = None  # run-wide call slots when shards run in several processes
        self.retry = retry or RetryPolicy()
        self.admission = admission or AdmissionConfig()
        self.breaker_config = breaker or BreakerConfig()
        self.ledger = Ledger()
        self._costs = CostCalculator()
        self._states: dict[tuple[str, str | None], _ModelState] = {}
        self._in_flight: dict[str, asyncio.Future[LLMResponse]] = {}
        self._rng = random.Random(seed)  # jitter only: never influences an answer

    # ---- public API -------------------------------------------------------------------------------
    async def complete(self, request: LLMRequest, model: ModelConfig) -> LLMResponse:
        key = cache_key(request, model)
        if self.cache is not None:
            stored = self.cache.get(key)
            if stored is not None:
                return self._from_cache(request, model, key, stored)
            leader = self._in_flight.get(key)
            if leader is not None and leader.get_loop() is asyncio.get_running_loop():
                # The same call is already on the wire (e.g. a retried task): share its answer, pay once.
                try:
                    response = await asyncio.shield(leader)
                except asyncio.CancelledError:
                    if not leader.cancelled():
                        raise  # this caller itself was cancelled
                except LLMError:
                    pass  # the leader failed; this caller makes its own attempt below
                else:
                    return self._from_cache(request, model, key, response.model_dump())
        try:
            self.budget.check()
        except LLMError as error:
            self._record(request, model, key, status="refused", error=str(error))
            raise
        secret = self._api_key(request, model, key)
        if self.cache is None:
            return await self._call_with_retries(request, model, key, secret)
        future: asyncio.Future[LLMResponse] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            response = await self._call_with_retries(request, model, key, secret)
        except BaseException as error:
            if isinstance(error, LLMError):
                future.set_exception(error)
                future.exception()  # mark retrieved: nobody may be waiting
            else:
                future.cancel()
            raise
        else:
            future.set_result(response)
            return response
        finally:
            if self._in_flight.get(key) is future:
                del self._in_flight[key]

    async def complete_all(self, requests: Iterable[LLMRequest], model: ModelConfig) -> list[LLMResponse | LLMError]:
        """Run many calls concurrently (admission bounds them); failures come back in place, not raised."""
        async def one(request: LLMRequest) -> LLMResponse | LLMError:
            try:
                return await self.complete(request, model)
            except LLMError as error:
                return error
        return list(await asyncio.gather(*(one(r) for r in requests)))

    def complete_many(self, requests: Iterable[LLMRequest], model: ModelConfig) -> list[LLMResponse | LLMError]:
        """Sync helper for non-async callers; must not be called from inside a running event loop."""
        return asyncio.run(self.complete_all(list(requests), model))

    def totals(self) -> Totals:
        return self.ledger.totals()

    def write_ledger(self, path: Path) -> Path:
        return self.ledger.write_parquet(path)

    def limiter_snapshot(self, model: ModelConfig) -> LimiterSnapshot | None:
        """Admission state on the running loop, or on the last loop that used this model."""
        state = self._states.get((model.model, model.api_base))
        if state is None:
            return None
        try:
            limiter = state.limiters.get(asyncio.get_running_loop()) or state.last_limiter
        except RuntimeError:
            limiter = state.last_limiter
        return limiter.snapshot() if limiter else None

    def breaker_for(self, model: ModelConfig) -> CircuitBreaker:
        return self._state(model).breaker

    # ---- internals --------------------------------------------------------------------------------
    async def _call_with_retries(self, request: LLMRequest, model: ModelConfig, key: str, secret: str | None) -> LLMResponse:
        litellm = import_litellm()
        state = self._state(model)
        limiter = self._limiter(state, model)
        secrets = tuple(s for s in (secret,) if s and s != NO_KEY_PLACEHOLDER)
        kwargs = self._litellm_kwargs(request, model, secret)
        loop = asyncio.get_running_loop()
        started = loop.time()
        retries = 0
        while True:
            if not state.breaker.allow():
                message = (f"circuit open for {model.model}: {state.breaker.consecutive_failures} consecutive failures; "
                           f"retry in {state.breaker.retry_in_s():.1f}s")
                self._record(request, model, key, status="refused", retries=retries, error=message)
                raise CircuitOpenError(message)
            try:
                permit = await limiter.acquire()
            except asyncio.CancelledError:
                state.breaker.record_neutral()  # a half-open probe that never ran must not block the circuit
                raise
            if retries == 0 and self.budget.exhausted:
                # Checked again after admission: calls queued behind the limiter must not start past the cap.
                limiter.release(permit, Outcome.FAILED)
                state.breaker.record_neutral()
                try:
                    self.budget.check()
                except LLMError as error:
                    self._record(request, model, key, status="refused", error=str(error))
                    raise
            sent = loop.time()
            try:
                raw = await litellm.acompletion(**kwargs)
                answer = read_answer(raw)  # an unreadable answer is a transient failure like a 5xx
            except asyncio.CancelledError:
                limiter.release(permit, Outcome.FAILED)
                state.breaker.record_neutral()
                raise
            except Exception as error:  # noqa: BLE001 - classified below; unknown kinds count as transient
                kind = classify(error)
                wait_floor = retry_after_seconds(error) if kind is FailureKind.RATE_LIMIT else None
                limiter.release(permit, Outcome.RATE_LIMITED if kind is FailureKind.RATE_LIMIT else Outcome.FAILED)
                if kind is FailureKind.TRANSIENT:
                    state.breaker.record_failure()
                else:
                    state.breaker.record_neutral()
                if wait_floor:
                    limiter.pause(wait_floor)
                if kind is FailureKind.PERMANENT or retries >= model.max_retries:
                    raise self._final_error(request, model, key, error, kind, retries, loop.time() - started, secrets)
                await asyncio.sleep(self.retry.delay(retries, wait_floor, self._rng))
                retries += 1
                continue
            limiter.release(permit, Outcome.OK, loop.time() - sent)
            state.breaker.record_success()
            return self._accept(request, model, key, answer, retries, loop.time() - started)

    def _accept(self, request: LLMRequest, model: ModelConfig, key: str, answer: dict[str, Any], retries: int,
                latency: float) -> LLMResponse:
        prompt_tokens, completion_tokens = answer["prompt_tokens"], answer["completion_tokens"]
        cost = self._costs.cost(model, prompt_tokens, completion_tokens)
        self.budget.add(cost.usd)
        response = LLMResponse(content=answer["content"], tool_calls=answer["tool_calls"],
                               finish_reason=answer["finish_reason"], model=model.model,
                               prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cost_usd=cost.usd,
                               cached=False, latency_s=latency, retries=retries)
        if self.cache is not None:
            self.cache.put(key, response.model_dump())
        self._record(request, model, key, status="ok", prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                     cost_usd=cost.usd, priced=cost.priced, latency_s=latency, retries=retries)
        return response

    def _from_cache(self, request: LLMRequest, model: ModelConfig, key: str, stored: dict[str, Any]) -> LLMResponse:
        """A cache hit costs nothing this run: cost 0, tokens kept for the record of what was reused."""
        response = LLMResponse(content=stored.get("content"), tool_calls=tuple(stored.get("tool_calls") or ()),
                               finish_reason=stored.get("finish_reason"), model=model.model,
                               prompt_tokens=int(stored.get("prompt_tokens") or 0),
                               completion_tokens=int(stored.get("completion_tokens") or 0), cost_usd=0.0, cached=True)
        self._record(request, model, key, status="cached", cached=True)
        return response

    def _final_error(self, request: LLMRequest, model: ModelConfig, key: str, error: Exception, kind: FailureKind,
                     retries: int, latency: float, secrets: tuple[str, ...]) -> LLMError:
        status = status_code(error)
        detail = redact(f"{type(error).__name__}{f' (HTTP {status})' if status else ''}: {error}", secrets)[:800]
        if kind is FailureKind.PERMANENT:
            error_type = LLMSetupError if is_setup_failure(error) else LLMRequestError
            result: LLMError = error_type(f"{model.model}: not retried, {detail}")
        else:
            result = LLMTransientExhausted(f"{model.model}: still failing after {retries} retries, {detail}")
        self._record(request, model, key, status="failed", latency_s=latency, retries=retries, error=str(result))
        return result

    def _api_key(self, request: LLMRequest, model: ModelConfig, key: str) -> str | None:
        if model.api_key_env is None:
            return NO_KEY_PLACEHOLDER if model.api_base else None
        value = os.environ.get(model.api_key_env)
        if not value:
            message = f"{model.model}: environment variable {model.api_key_env} (api_key_env) is not set"
            self._record(request, model, key, status="failed", error=message)
            raise LLMSetupError(message)
        return value

    @staticmethod
    def _litellm_kwargs(request: LLMRequest, model: ModelConfig, secret: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(request.params)
        kwargs.update(model=model.model, messages=[dict(m) for m in request.messages], timeout=model.timeout_s,
                      num_retries=0, max_retries=0)  # retries are ours: litellm's would hide 429s from admission
        if request.tools:
            kwargs["tools"] = [dict(t) for t in request.tools]
        if model.api_base:
            kwargs["api_base"] = model.api_base
        if secret:
            kwargs["api_key"] = secret
        return kwargs

    def _state(self, model: ModelConfig) -> _ModelState:
        state = self._states.get((model.model, model.api_base))
        if state is None:
            state = self._states[(model.model, model.api_base)] = _ModelState(CircuitBreaker(self.breaker_config))
        return state

    def _limiter(self, state: _ModelState, model: ModelConfig) -> AdaptiveLimiter:
        loop = asyncio.get_running_loop()
        limiter = state.limiters.get(loop)
        if limiter is None:
            limiter = state.limiters[loop] = AdaptiveLimiter(model.max_concurrency, self.admission,
                                                                shared=self.shared, name=f"{model.model}@{model.api_base}")
        state.last_limiter = limiter
        return limiter

    def _record(self, request: LLMRequest, model: ModelConfig, key: str, *, status: str, cached: bool = False,
                prompt_tokens: int = 0, completion_tokens: int = 0, cost_usd: float = 0.0, priced: bool = True,
                latency_s: float = 0.0, retries: int = 0, error: str = "") -> None:
        self.ledger.append(CallRecord(role=request.role, stage=request.stage, model=model.model, cache_key=key,
                                      cached=cached, status=status, prompt_tokens=prompt_tokens,
                                      completion_tokens=completion_tokens, cost_usd=cost_usd, priced=priced,
                                      latency_s=latency_s, retries=retries, error=error))
