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
ROLE_NAMES = ("category_labeller", "query_writer", "call_writer", "teacher", "negative_sampler", "error_judge", "simulator",
              "leak_judge")
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
    leak_judge: ModelConfig | None = None

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


REASK_PREFIX = "Your previous answer could not be used"
DEFAULT_MAX_REASKS = 2


class ReaskExhausted(ValueError):
    """Every attempt at one answer was unusable; `attempts` holds one line per attempt, in order."""

    def __init__(self, what: str, attempts: list[str]):
        self.attempts = list(attempts)
        lines = "; ".join(f"attempt {n}: {line}" for n, line in enumerate(attempts, 1))
        super().__init__(f"{what}: {len(attempts)} unusable answers ({lines})")
        self.cost_usd = 0.0

    def with_cost(self, cost_usd: float) -> "ReaskExhausted":
        self.cost_usd = cost_usd
        return self


def reask_feedback(answer: LLMResponse, error: str) -> list[dict[str, Any]]:
    """The unusable answer, echoed as plain text (never as tool calls, so a role that counts the calls
    made in a turn counts only the ones that ran), and why it could not be used."""
    echoed = answer.content or ""
    if answer.tool_calls:
        echoed = (echoed + " " + json.dumps([c.get("function") for c in answer.tool_calls], ensure_ascii=False)).strip()
    return [{"role": "assistant", "content": echoed[:2000] or "(empty reply)"},
            {"role": "user", "content": f"{REASK_PREFIX}: {error[:500]}. Answer again, in the format asked for."}]


async def complete_parsed(client: LLMClientLike, model: ModelConfig, request: LLMRequest, parse, max_reasks: int,
                          what: str):
    """(parsed value, total cost of every attempt). An unusable answer (`parse` raises ValueError) is re-asked
    up to `max_reasks` times as a new sample (`sample_index`) whose messages carry every earlier unusable
    answer and its error, so each attempt is a distinct request (and cache key): a re-run pays nothing twice.
    Then `ReaskExhausted` lists every attempt. LLM client errors propagate."""
    attempts: list[str] = []
    feedback: list[dict[str, Any]] = []
    cost = 0.0
    current = request
    for attempt in range(max_reasks + 1):
        response = await client.complete(current, model)
        cost += response.cost_usd
        try:
            return parse(response), cost
        except ValueError as error:
            attempts.append(str(error)[:300])
            feedback += reask_feedback(response, str(error))
            current = request.model_copy(update={"messages": (*request.messages, *feedback),
                                                 "sample_index": request.sample_index + attempt + 1})
    raise ReaskExhausted(what, attempts).with_cost(cost)
