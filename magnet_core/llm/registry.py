"""Models defined once: aliases of model settings, and which alias plays each role of the method.

A user names models in one place, the pipeline config's top-level `models:` (alias -> `ModelConfig`)
and `roles:` (role -> alias). One alias named `teacher` and nothing else puts every model-backed role
of every configured stage on that model, except the opt-in checks (`OPT_IN_ROLES`: the leak judge), which
run only when `roles:` maps them. `resolve_roles` turns the mapping into role -> `ModelConfig`
for the roles the configured stages actually call, and refuses, naming the field, whatever cannot be
meant: an unknown role, an alias that does not exist, an alias no role uses, or a model for a role no
configured stage calls (a slot that would be silently ignored). Pure: no I/O, no stage imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from magnet_core.llm.types import ModelConfig

DEFAULT_ALIAS = "teacher"
# Every role of the method that can run on a model, in pipeline order.
ROLES: tuple[str, ...] = (
    "category_labeller",  # pool: category and tool class of functions the pool leaves unlabelled
    "dependency_judge",  # graph: judges candidates (its value feeds are what Insert's nested-call check reads)
    "query_writer", "call_writer", "simulator",  # translate (both writers also write single-turn samples)
    "teacher", "negative_sampler", "error_judge",  # distill (teacher also answers single-turn samples)
    "leak_judge",  # distill, opt-in: reads stored assistant text for references to the private guidance
    "student",  # distill: sampled without hints; judged wrong calls become mined negatives
)
# Checks layered beyond the method, at an extra call per sample: only a `roles:` entry turns them on; they
# never follow the lone `teacher` alias (a user who names one model must not find a bill for a judge).
OPT_IN_ROLES: frozenset[str] = frozenset({"leak_judge"})


class ModelRegistryError(ValueError):
    """A `models:`/`roles:` mapping that cannot be resolved; the message names the offending field."""


def resolve_roles(models: Mapping[str, ModelConfig], roles: Mapping[str, str],
                  called: Mapping[str, Iterable[str]]) -> dict[str, ModelConfig]:
    """role -> model for every role some configured stage calls and a model is named for.

    `called` maps a role to the configured stages that call it (empty/absent: no stage calls it).
    A called role with no `roles:` entry uses the `teacher` alias when there is one, else stays offline;
    an `OPT_IN_ROLES` role runs only with its own `roles:` entry.
    """
    problems: list[str] = []
    for role, alias in sorted(roles.items()):
        if role not in ROLES:
            problems.append(f"roles.{role}: unknown role; roles are {', '.join(ROLES)}")
        elif alias not in models:
            known = ", ".join(sorted(models)) or "none defined"
            problems.append(f"roles.{role}: unknown model alias {alias!r} (models: {known})")
        elif not list(called.get(role, ())):
            problems.append(f"roles.{role}: no configured stage calls the {role} role; remove it "
                            + _hint(role))
    if problems:
        raise ModelRegistryError("; ".join(problems))
    resolved: dict[str, ModelConfig] = {}
    for role in ROLES:
        if not list(called.get(role, ())):
            continue
        fallback = DEFAULT_ALIAS if DEFAULT_ALIAS in models and role not in OPT_IN_ROLES else None
        alias = roles.get(role, fallback)
        if alias is not None:
            resolved[role] = models[alias]
    used = {alias for role, alias in roles.items()} | ({DEFAULT_ALIAS} if resolved and DEFAULT_ALIAS in models else set())
    unused = sorted(set(models) - used)
    if unused:
        raise ModelRegistryError("; ".join(f"models.{alias}: no role uses this model; map a role to it under roles:"
                                           for alias in unused))
    return resolved


def single_model(model: str, api_base: str | None = None, api_key_env: str | None = None) -> dict[str, dict]:
    """The `models:` mapping of the common case (`magnet run --teacher MODEL`): one `teacher` alias."""
    fields = {"model": model, "api_base": api_base, "api_key_env": api_key_env}
    return {DEFAULT_ALIAS: {key: value for key, value in fields.items() if value is not None}}


def distinct_models(resolved: Mapping[str, ModelConfig]) -> list[tuple[tuple[str, ...], ModelConfig]]:
    """Each distinct model once, with the roles it plays (what preflight checks)."""
    grouped: dict[ModelConfig, list[str]] = {}
    for role, model in resolved.items():
        grouped.setdefault(model, []).append(role)
    return [(tuple(roles), model) for model, roles in grouped.items()]


def _hint(role: str) -> str:
    if role == "dependency_judge":
        return "or set graph.judge: auto or llm (heuristic calls no model)"
    return "or enable the stage that calls it"
