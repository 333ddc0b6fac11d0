"""What every model-backed role shares: which model plays it, how a request is built, how JSON is read.

A role with no model configured runs its offline implementation; `role_model_name` is what lands in
metadata (`"offline"` or the litellm model string), so offline data can never pass for model data.
"""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from magnet_core.llm.types import (
    CircuitOpenError,
    LLMRequest,
    LLMRequestError,
    LLMResponse,
    LLMTransientExhausted,
    ModelConfig,
)
from magnet_core.prompts import load_prompt

OFFLINE = "offline"
ROLE_NAMES = ("category_labeller", "query_writer", "call_writer", "teacher", "negative_sampler", "error_judge", "simulator")
# Failures that condemn one item (it becomes a reject). Not among them on purpose: BudgetExceededError (the
# run halts, resumable) and LLMSetupError (missing/wrong key, unknown model: the run aborts, nothing cached).
ITEM_LLM_ERRORS = (LLMRequestError, LLMTransientExhausted, CircuitOpenError)
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class LLMClientLike(Protocol):
    async def complete(self, request: LLMRequest, model_config: ModelConfig) -> LLMResponse: ...


class RoleModels(BaseModel):
    """The model behind each role; None means the offline implementation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category_labeller: ModelConfig | None = None
    query_writer: ModelConfig | None = None
    call_writer: ModelConfig | None = None
    teacher: ModelConfig | None = None
    negative_sampler: ModelConfig | None = None
    error_judge: ModelConfig | None = None
    simulator: ModelConfig | None = None

    def for_role(self, role: str) -> ModelConfig | None:
        return getattr(self, role)

    def names(self, roles: tuple[str, ...] = ROLE_NAMES) -> dict[str, str]:
        return {role: role_model_name(self.for_role(role)) for role in roles}

    @property
    def any_model(self) -> bool:
        return any(self.for_role(role) is not None for role in ROLE_NAMES)

    def offline_for(self, roles: tuple[str, ...]) -> bool:
        return all(self.for_role(role) is None for role in roles)


def only_roles(models: RoleModels, roles: tuple[str, ...], stage: str) -> RoleModels:
    """A stage's `models` with a slot filled that the stage never reads is refused: it would be ignored."""
    dead = [role for role in ROLE_NAMES if role not in roles and models.for_role(role) is not None]
    if dead:
        raise ValueError(f"{stage}.models.{dead[0]}: the {stage} stage never calls the {dead[0]} role "
                         f"(it calls {', '.join(roles)}); name models in the pipeline config's models:/roles:")
    return models


def role_model_name(model: ModelConfig | None) -> str:
    return model.model if model is not None else OFFLINE


def prompt_versions(roles: tuple[str, ...]) -> dict[str, str]:
    return {role: load_prompt(role).cache_tag for role in roles}


def require_client(client: LLMClientLike | None, models: RoleModels, roles: tuple[str, ...]) -> LLMClientLike | None:
    """The client, or a clear error when a model is configured for one of `roles` but none was given."""
    configured = [role for role in roles if models.for_role(role) is not None]
    if configured and client is None:
        raise ValueError(f"models are configured for {configured} but no LLM client was passed")
    return client


def build_request(role: str, stage: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | tuple = (),
                  params: dict[str, Any] | None = None, sample_index: int = 0) -> LLMRequest:
    return LLMRequest(role=role, stage=stage, messages=tuple(messages), tools=tuple(tools), params=dict(params or {}),
                      prompt_version=load_prompt(role).cache_tag, sample_index=sample_index)


def parse_json_object(text: str | None, what: str) -> dict[str, Any]:
    """The one JSON object in a model's answer (fences and chatter around it tolerated), or ValueError."""
    if not text or not text.strip():
        raise ValueError(f"{what}: empty answer")
    match = _JSON_OBJECT.search(text)
    if not match:
        raise ValueError(f"{what}: no JSON object in the answer")
    try:
        value = json.loads(match.group(0))
    except json.JSONDecodeError as error:
        raise ValueError(f"{what}: invalid JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what}: expected a JSON object")
    return value
