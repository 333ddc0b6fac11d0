"""Preflight: one tiny request per configured model before any stage runs.

A missing or refused key, an unknown model or an unreachable server would otherwise surface one item
at a time, deep into a run. Here each distinct model gets one short request, not cached (a cached
answer proves nothing about today's key) but costed and in the ledger like any call, with no retry
loop: the run stops within seconds with a message naming the model and the roles it plays. A 429
passes: the server answered and accepted the key, it is only busy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from magnet_core.llm.types import LLMError, LLMRequest, LLMTransientExhausted, ModelConfig

PREFLIGHT_TIMEOUT_S = 30.0
PROBE = LLMRequest(role="preflight", stage="preflight", messages=({"role": "user", "content": "Reply with the word OK."},),
                   params={"max_tokens": 5, "temperature": 0.0})


class PreflightError(RuntimeError):
    """A configured model cannot be used; the run must not start."""


def probe_model(model: ModelConfig) -> ModelConfig:
    """The model's settings for its probe: no retries, a short timeout (prices and endpoint unchanged)."""
    return model.model_copy(update={"max_retries": 0, "timeout_s": min(model.timeout_s, PREFLIGHT_TIMEOUT_S)})


async def preflight(client, models: Sequence[tuple[tuple[str, ...], ModelConfig]],
                    aliases: Mapping[ModelConfig, str] | None = None) -> None:
    """Raise `PreflightError` listing every model that failed its probe. `client` must have no cache.

    `aliases` (model -> its name under `models:`) lets the message name the config entry to fix."""
    if getattr(client, "cache", None) is not None:
        raise ValueError("preflight needs a client without a response cache: a cached answer proves nothing")
    results = await asyncio.gather(*(client.complete(PROBE, probe_model(model)) for _, model in models),
                                   return_exceptions=True)
    problems = []
    for (roles, model), result in zip(models, results):
        if isinstance(result, LLMTransientExhausted) and ("RateLimitError" in str(result) or "HTTP 429" in str(result)):
            continue
        if isinstance(result, LLMError):
            where = f" at {model.api_base}" if model.api_base else ""
            hint = " [server unreachable: is it running at api_base?]" if "Connection error" in str(result) else ""
            alias = f"models.{aliases[model]}: " if aliases and model in aliases else ""
            problems.append(f"{alias}{model.model}{where} (roles: {', '.join(roles)}){hint}: {type(result).__name__}: {result}")
        elif isinstance(result, BaseException):
            raise result
    if problems:
        raise PreflightError("preflight failed, no stage was started:\n  " + "\n  ".join(problems))
