"""Typed boundary of the translate stage: its config, a translated scenario, and the stage result."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from magnet_core.domain.trajectory import CallResult, Reject, Scenario, Turn
from magnet_core.roles.llm_role import DEFAULT_MAX_REASKS, RoleModels, only_roles

TRANSLATE_ROLES = ("query_writer", "call_writer", "simulator")


class TranslateConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    models: RoleModels = Field(default_factory=RoleModels)
    probe_values: bool = Field(default=True, description="Offline call writer tries candidates on scratch sessions")
    shard_index: int = Field(default=0, ge=0)
    shard_count: int = Field(default=1, ge=1)
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    call_timeout_s: float = Field(default=5.0, gt=0)
    max_reasks: int = Field(default=DEFAULT_MAX_REASKS, ge=0, le=10,
                            description="Unusable model answers re-asked (error fed back) before the item is rejected")

    @field_validator("models")
    @classmethod
    def _called_roles_only(cls, models: RoleModels) -> RoleModels:
        return only_roles(models, TRANSLATE_ROLES, "translate")

    def in_shard(self, item_id: str) -> bool:
        """Stable across processes (no Python hash randomisation)."""
        if self.shard_count == 1:
            return True
        return sum(item_id.encode()) % self.shard_count == self.shard_index

    @property
    def offline(self) -> bool:
        return self.models.offline_for(TRANSLATE_ROLES)


class TranslatedScenario(BaseModel):
    """A scenario with its executed turns; `offered_functions` are the qualified names shown as tools."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: Scenario
    turns: tuple[Turn, ...]
    offered_functions: tuple[str, ...]
    simulated: bool = False
    models: dict[str, str] = Field(default_factory=dict)
    prompt_versions: dict[str, str] = Field(default_factory=dict)
    cost_usd: float = 0.0


class CallTally(BaseModel):
    """How many reference calls were executed and how many succeeded (the offline quality figure)."""

    model_config = ConfigDict(extra="forbid")

    executed: int = 0
    succeeded: int = 0
    failures_by_function: dict[str, int] = Field(default_factory=dict)

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.executed if self.executed else 0.0

    def record(self, result: CallResult) -> None:
        self.executed += 1
        if result.ok:
            self.succeeded += 1
        else:
            self.failures_by_function[result.call.name] = self.failures_by_function.get(result.call.name, 0) + 1


class TranslateResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    translated: list[TranslatedScenario] = Field(default_factory=list)
    rejects: list[Reject] = Field(default_factory=list)
    calls: CallTally = Field(default_factory=CallTally)
    offline: bool = True

    def summary(self) -> dict[str, Any]:
        return {"scenarios": len(self.translated), "rejects": len(self.rejects), "calls_executed": self.calls.executed,
                "calls_succeeded": self.calls.succeeded, "call_success_rate": round(self.calls.success_rate, 4),
                "offline": self.offline}
