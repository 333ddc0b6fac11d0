"""Categories for pools that come without them, from the category labeller role on a model.

The graph's candidates and the plans group functions by category; a pool that gives none (an OpenAI
tool list, a Python module) gets one per function from the configured model, answers cached like any
call. Only the category is filled: the tool class is part of a function's qualified name and of its
backend, so it stays as the pool gives it. An answer that fails to parse keeps the offline keyword
label and is recorded as a pool issue; setup errors (key, unknown model) propagate and stop the run.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from magnet_core.llm.types import CircuitOpenError, LLMRequestError, LLMTransientExhausted, ModelConfig
from magnet_core.pools.base import FunctionPool, PoolIssue
from magnet_core.roles.labeller import CATEGORY_KEYWORDS, label_offline, labeller_request, parse_label


def unlabelled(pool: FunctionPool) -> list[str]:
    return [spec.qualified_name for spec in pool.specs if not spec.category]


def label_pool(pool: FunctionPool, client, model: ModelConfig) -> FunctionPool:
    """The pool with every missing category filled by the model (the same pool when none is missing)."""
    if not unlabelled(pool):
        return pool
    return apply_labels(pool, *label_missing(pool, client, model))


def label_missing(pool: FunctionPool, client, model: ModelConfig) -> tuple[dict[str, str], tuple[PoolIssue, ...]]:
    """A category for each function the pool leaves without one, and an issue per answer that was unusable.

    Kept apart from `apply_labels` so a run can label once and store the answers for every later load."""
    return asyncio.run(_label(pool, client, model)) if unlabelled(pool) else ({}, ())


def apply_labels(pool: FunctionPool, categories: dict[str, str], issues: tuple[PoolIssue, ...] = ()) -> FunctionPool:
    """The pool with the given categories filled in (only where the pool gives none) and the issues added."""
    specs = tuple(spec.model_copy(update={"category": categories[spec.qualified_name]})
                  if not spec.category and spec.qualified_name in categories else spec for spec in pool.specs)
    return replace(pool, specs=specs, issues=pool.issues + tuple(issues))


async def _label(pool: FunctionPool, client, model: ModelConfig) -> tuple[dict[str, str], tuple[PoolIssue, ...]]:
    categories = sorted({spec.category for spec in pool.specs if spec.category} | set(CATEGORY_KEYWORDS))
    missing = [spec for spec in pool.specs if not spec.category]

    async def one(spec):
        try:
            return parse_label(await client.complete(labeller_request(spec, categories), model), categories).category, None
        except (ValueError, LLMRequestError, LLMTransientExhausted, CircuitOpenError) as error:
            reason = f"category labeller: {type(error).__name__}: {str(error)[:300]}; kept the offline label"
            return label_offline(spec).category, PoolIssue(location="category_labeller", reason=reason, name=spec.qualified_name)

    answers = await asyncio.gather(*(one(spec) for spec in missing))
    labels = {spec.qualified_name: category for spec, (category, _) in zip(missing, answers)}
    return labels, tuple(issue for _, issue in answers if issue is not None)
