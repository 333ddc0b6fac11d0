"""The contract between roles and the LLM client: requests, responses, model settings, errors.

Roles build `LLMRequest`s and parse `LLMResponse`s; they never see litellm. The response keeps the raw
text and raw tool calls, unparsed: parsing belongs to the role, outside the cache key, so that a fixed
parser re-parses cached answers for free.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelConfig(BaseModel):
    """How to reach one model. Holds the *name* of the env var with the key, never the key itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(min_length=1, description="Any litellm model string, e.g. openai/gpt-4o-mini or hosted_vllm/qwen")
    api_base: str | None = None
    api_key_env: str | None = Field(default=None, description="Environment variable holding the API key")
    max_concurrency: int = Field(default=16, ge=1, le=4096)
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=6, ge=0, le=50)
    input_cost_per_mtok: float | None = Field(default=None, ge=0, description="Price override, USD per 1M input tokens")
    output_cost_per_mtok: float | None = Field(default=None, ge=0, description="Price override, USD per 1M output tokens")


class LLMRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    stage: str = ""
    messages: tuple[dict[str, Any], ...] = Field(min_length=1)
    tools: tuple[dict[str, Any], ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)
    prompt_version: str = ""
    sample_index: int = Field(default=0, ge=0, description="Distinct samples of one prompt get distinct cache keys")


class LLMResponse(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    content: str | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()
    finish_reason: str | None = None
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    latency_s: float = 0.0
    retries: int = 0


class LLMError(RuntimeError):
    """Base of every client failure a role may see."""


class LLMPermanentError(LLMError):
    """Auth, bad request, unknown model: retrying cannot help; fail at once with the reason."""


class LLMSetupError(LLMPermanentError):
    """The model cannot be used at all (key missing or refused, unknown model or provider, unpaid): every
    call would fail the same way, so it aborts the run; it never becomes an item reject or a cache entry."""


class LLMRequestError(LLMPermanentError):
    """This one request is refused (bad request, context too long, content policy): the item is rejected."""


class LLMTransientExhausted(LLMError):
    """429/5xx/timeouts persisted through every retry."""


class CircuitOpenError(LLMError):
    """The model kept failing; calls are refused for a cool-down instead of hammering it."""


class BudgetExceededError(LLMError):
    """The run's `max_cost_usd` is reached: no new calls start; unfinished items stay resumable."""
