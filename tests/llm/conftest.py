"""Fixtures for the LLM client tests: real litellm over HTTP to the project's fake server on 127.0.0.1."""

from __future__ import annotations

import pytest

from magnet_core.llm.breaker import BreakerConfig
from magnet_core.llm.client import LLMClient
from magnet_core.llm.litellm_loader import import_litellm
from magnet_core.llm.retry import RetryPolicy
from magnet_core.llm.types import LLMRequest, ModelConfig

FAST_RETRY = RetryPolicy(base_delay_s=0.002, max_delay_s=0.02, max_retry_after_s=0.05)


@pytest.fixture(scope="session", autouse=True)
def _litellm_loaded():
    """Pay litellm's import (seconds) once per session, not inside the first test's timings."""
    import_litellm()


def make_client(tmp_path=None, **kwargs) -> LLMClient:
    kwargs.setdefault("retry", FAST_RETRY)
    kwargs.setdefault("breaker", BreakerConfig(failure_threshold=1000, cooldown_s=0.05))
    return LLMClient(cache_dir=tmp_path, **kwargs)


def model_for(server, name: str = "fake", **kwargs) -> ModelConfig:
    kwargs.setdefault("timeout_s", 10.0)
    return ModelConfig(model=f"openai/{name}", api_base=server.url, **kwargs)


def request(index: int = 0, *, role: str = "teacher", stage: str = "distill", text: str | None = None,
            **kwargs) -> LLMRequest:
    content = text if text is not None else f"item {index}: please answer"
    return LLMRequest(role=role, stage=stage, messages=({"role": "user", "content": content},), **kwargs)
