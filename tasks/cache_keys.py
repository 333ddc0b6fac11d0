"""Cache keys that survive across runs: inputs + stage code version + prompt versions + model settings.

Prefect's default policy keys on the run, so a killed pipeline would redo every shard. Our key is a
content hash of what decides a shard's output: the shard's items (by content hash, not by path), the
stage config (model settings included; they name the env var of an API key, never the key), the seed,
the source of the packages the stage runs, and the `cache_tag` of every prompt the stage may use. Edit a
prompt or a stage module and its shards recompute; move the working directory and nothing does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel


# What each stage's output depends on, beyond its parameters. Packages not present are skipped.
STAGE_PACKAGES: dict[str, tuple[str, ...]] = {
    "pool": ("magnet_core.pools",),
    "graph": ("magnet_core.graph",),
    "plans": ("magnet_core.graph",),
    "translate": ("magnet_core.translate", "magnet_core.roles", "magnet_core.execution"),
    "distill": ("magnet_core.distill", "magnet_core.roles", "magnet_core.verify", "magnet_core.execution"),
    "single_turn": ("magnet_core.distill", "magnet_core.roles", "magnet_core.translate", "magnet_core.verify",
                    "magnet_core.execution"),
    "assemble": ("magnet_core.dataset",),
    "available": ("magnet_core.dataset",),
    "intake": ("magnet_core.dataset",),
    "train_sft": ("magnet_core.train",),
    "train_mdpo": ("magnet_core.train",),
    "evaluate": ("magnet_core.evaluate", "magnet_core.execution"),
}
COMMON_PACKAGES = ("magnet_core.domain", "tasks")
# Stages whose roles talk to a teacher model: their keys carry every prompt's version tag.
PROMPTED_STAGES = frozenset({"translate", "distill", "single_turn"})
# Parameters that say where to write or how much may be spent, not what to compute.
# llm: cache dir and spending cap; intake: what to prepare besides the output (the prepared shard has its own key)
UNKEYED_PARAMETERS = frozenset({"workspace", "llm", "intake"})


def _package_files(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None:
        return []
    roots = [Path(p) for p in (spec.submodule_search_locations or [])] or [Path(spec.origin or "").parent]
    return sorted(file for root in roots for file in root.rglob("*.py") if "__pycache__" not in file.parts)


@lru_cache(maxsize=None)
def stage_code_version(stage: str) -> str:
    """Hash of the source of every package the stage runs (one process computes it once)."""
    digest = hashlib.sha256()
    for package in COMMON_PACKAGES + STAGE_PACKAGES.get(stage, ()):
        for file in _package_files(package):
            digest.update(f"{package}:{file.name}".encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=None)
def prompt_tags() -> tuple[str, ...]:
    from magnet_core.prompts import load_prompt

    files = resources.files("magnet_core.prompts")
    roles = sorted(entry.name[:-3] for entry in files.iterdir() if entry.name.endswith(".md"))
    return tuple(load_prompt(role).cache_tag for role in roles)


def canonical(value: Any) -> Any:
    """JSON-able form of a parameter, with refs reduced to their content hash."""
    if isinstance(value, BaseModel) and callable(getattr(value, "key_fields", None)):
        return value.key_fields()  # refs and shards: their content, never their location
    if isinstance(value, BaseModel):
        return {key: canonical(getattr(value, key)) for key in type(value).model_fields}
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return canonical(value.value)
    return value


def stage_cache_key(stage: str, parameters: dict[str, Any]) -> str:
    payload = {
        "stage": stage,
        "code": stage_code_version(stage),
        "prompts": list(prompt_tags()) if stage in PROMPTED_STAGES else [],
        "parameters": {k: canonical(v) for k, v in sorted(parameters.items()) if k not in UNKEYED_PARAMETERS},
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return f"{stage}-{hashlib.sha256(blob).hexdigest()[:40]}"


def cache_key_fn_for(stage: str):
    """The `cache_key_fn` Prefect calls before running a task: same key -> the stored result is reused."""

    def cache_key(context: Any, parameters: dict[str, Any]) -> str:
        return stage_cache_key(stage, parameters)

    cache_key.__name__ = f"cache_key_{stage}"
    return cache_key
