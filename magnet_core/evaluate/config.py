"""What an evaluation run is asked to do, and what it returns."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from magnet_core.evaluate.bfcl_data import CATEGORIES, SINGLE_TURN_CATEGORIES, Category, SingleTurnCategory
from magnet_core.evaluate.replies import TextCallFormat
from magnet_core.llm.types import ModelConfig


class EvalConfig(BaseModel):
    """One evaluation: which cases, which model, where results go.

    Exactly one of `model` (reached through the shared LLM client: a hosted API or an
    OpenAI-compatible server such as vLLM serving the trained checkpoint) and `local_model_path`
    (a transformers checkpoint run in-process) is set. `sample_size` cases per category are drawn with
    `seed` (None: all 200). `max_new_cases` stops starting cases once that many have newly finished
    (cases already in flight still finish), leaving a partial run that a rerun with the same config
    completes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    output_dir: Path
    categories: tuple[Category | SingleTurnCategory, ...] = CATEGORIES
    sample_size: int | None = Field(default=None, ge=1)
    seed: int = 0
    model: ModelConfig | None = None
    local_model_path: Path | None = None
    label: str | None = Field(default=None, description="Name of the model in the report (default: the model string)")
    cache_dir: Path | None = Field(default=None, description="LLM response cache (default: <output_dir>/llm_cache)")
    system_prompt_role: str = "assistant_system"  # the prompt the factory trains with
    max_steps_per_turn: int = Field(default=20, ge=1, description="BFCL's MAXIMUM_STEP_LIMIT")
    concurrency: int = Field(default=8, ge=1, le=1024, description="Cases in flight at once")
    temperature: float = Field(default=0.0, ge=0.0)
    max_tokens: int = Field(default=1024, ge=1)
    local_max_new_tokens: int = Field(default=256, ge=1)
    check_ask_turns: bool = Field(default=True, description="BFCL-v3's check that turns needing a question make no call")
    text_call_format: TextCallFormat = Field(default="qwen", description="How calls written as text are read: BFCL's Qwen FC handler, or leniently")
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_new_cases: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_model(self) -> "EvalConfig":
        if (self.model is None) == (self.local_model_path is None):
            raise ValueError("set exactly one of `model` (via the LLM client) and `local_model_path` (transformers)")
        if len(set(self.categories)) != len(self.categories) or not self.categories:
            raise ValueError("categories must be a non-empty list without repeats")
        return self

    @property
    def multi_turn_categories(self) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if c in CATEGORIES)

    @property
    def single_turn_categories(self) -> tuple[SingleTurnCategory, ...]:
        return tuple(c for c in self.categories if c in SINGLE_TURN_CATEGORIES)

    @property
    def model_label(self) -> str:
        if self.label:
            return self.label
        return self.model.model if self.model is not None else f"local:{Path(self.local_model_path).name}"

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or self.output_dir / "llm_cache"

    def run_key(self, prompt_tag: str) -> str:
        """What decides a case's answer; stored per finished case so resume never mixes settings."""
        material = {
            "model": self.model.model if self.model is not None else str(Path(self.local_model_path).resolve()),
            "prompt": prompt_tag,
            "max_steps": self.max_steps_per_turn,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens if self.model is not None else self.local_max_new_tokens,
            "check_ask_turns": self.check_ask_turns,
            "text_call_format": self.text_call_format,
            "judge": "bfcl-exec-v2",  # results rendered and arguments run as BFCL does (issue 15)
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


SUITES: dict[str, tuple[str, ...]] = {
    "multi-turn": CATEGORIES,
    "bfcl-v3": (*SINGLE_TURN_CATEGORIES, *CATEGORIES),  # BFCL-v3's scored categories the package ships
}


class CategoryScore(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str
    cases: int
    correct: int
    strict_correct: int = Field(default=0, description="Correct and every call kept to its parameter schema (multi-turn)")

    @property
    def strict_accuracy(self) -> float:
        return 100.0 * self.strict_correct / self.cases if self.cases else 0.0

    @property
    def accuracy(self) -> float:
        """Percent, as the leaderboard reports it."""
        return 100.0 * self.correct / self.cases if self.cases else 0.0


class EvalResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    scores: tuple[CategoryScore, ...]
    overall: float = Field(description="BFCL-v3's overall when single-turn categories ran, else the multi-turn mean (percent)")
    summary: dict[str, float] = Field(default_factory=dict, description="BFCL-v3 section scores (summary.bfcl_v3_summary)")
    complete: bool = Field(description="Every selected case finished")
    unfinished: int = 0
    cases_parquet: Path
    report_md: Path
    chart_png: Path
    cost_usd: float
    wall_time_s: float
    requests: int
    cached_requests: int

    @property
    def accuracy(self) -> dict[str, float]:
        return {score.category: score.accuracy for score in self.scores}
