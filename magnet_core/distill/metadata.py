"""The metadata every stored trajectory and pair carries (keys listed in docs/ARCHITECTURE.md)."""

from __future__ import annotations

import random
from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.pools.base import FunctionPool
from magnet_core.translate.models import TranslatedScenario


def scenario_metadata(pool: FunctionPool, translated: TranslatedScenario, models: dict[str, str],
                      prompt_versions: dict[str, str], seed: int, cost_usd: float) -> dict[str, Any]:
    plan = translated.scenario.plan
    all_models = {**translated.models, **models}
    templated = [f"turn {t.index} user message (function announcement)" for t in translated.turns if t.announced_functions]
    extra = {"template_text": templated} if templated else {}
    return {
        "category": "multi_turn",
        "plan_id": plan.plan_id,
        "plan_variant": plan.variant,
        "node_operations": [{"kind": op.kind.value, "turn_index": op.turn_index, "functions": list(op.functions),
                             "detail": op.detail} for op in plan.operations],
        "turn_labels": [turn.label.value for turn in translated.turns],
        "source_pool": pool.name,
        "pool_fingerprint": pool.fingerprint(),
        "initial_state": translated.scenario.initial_state,
        "models": all_models,
        "offline": all(name == "offline" for name in all_models.values()),
        "simulated": translated.simulated,
        "seed": seed,
        "cost_usd": round(translated.cost_usd + cost_usd, 6),
        "prompt_versions": {**translated.prompt_versions, **prompt_versions},
        **extra,  # text our templates wrote even when a model plays the role (never claimed as model text)
    }


def shuffled_tools(specs: list[FunctionSpec], rng: random.Random) -> tuple[dict[str, Any], ...]:
    """Tool order shuffled per sample (method, post-processing), seeded so a re-run is identical."""
    tools = [spec.to_openai_tool() for spec in specs]
    rng.shuffle(tools)
    return tuple(tools)
