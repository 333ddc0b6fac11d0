"""The run form an operator fills in the Prefect UI: a few flat, labelled choices, mapped onto a PipelineConfig.

The deployments people trigger (nightly, on-demand) take these parameters instead of the whole nested
config: which teacher, which pool, how big a dataset, how much money, train or not, evaluate or not,
and a config file for everything else. `OperatorForm` is the one definition (titles, descriptions,
bounds, order); the flow's parameters are generated from it so that the UI form and the validation
cannot drift apart. No field is nullable: empty text or 0 means "not set", so no field renders as an
"Optional" choice. Power users keep the full config: the `magnet-pipeline` flow (deployment `advanced`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from prefect import flow
from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from flows.configs import PipelineConfig
from magnet_core.llm.registry import DEFAULT_ALIAS, single_model


class OperatorForm(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    teacher: str = Field("", title="Teacher model", description=(
        "The LLM behind every synthesis role: a litellm model string (e.g. openai/gpt-4o-mini) or a model alias "
        "from the config file. Its API key comes from the worker's environment. Empty = offline roles: no API key, "
        "template text, and the dataset is labelled offline."))
    pool: str = Field("bfcl", title="Function pool", description=(
        "bfcl = BFCL's executable multi-turn APIs; a path to an OpenAI-tools .json/.jsonl file; or module[:Class] "
        "of a Python pool. Paths are relative to the project directory on the worker."))
    dataset_size: int = Field(100, ge=1, le=1_000_000, title="Dataset size (SFT rows)", description=(
        "SFT rows wanted, split by the paper's mixture (single-turn, multi-turn, irrelevance); the factory sizes "
        "plans and samples to reach it and tops up categories that fall short. Preference pairs come along."))
    budget_usd: float = Field(0.0, ge=0, title="Budget (USD)", description=(
        "Spending cap for teacher calls in this run; 0 = no cap. Reaching it ends the run Failed; a re-run with "
        "a higher budget resumes from the finished shards."))
    train: bool = Field(True, title="Train (SFT, then mDPO)", description=(
        "Fine-tune on the new dataset. Where and how comes from the config file's `training` section (a GPU "
        "deployment, a recipe); by default a tiny-model smoke run on this worker's CPU."))
    evaluate: bool = Field(False, title="Evaluate on BFCL multi-turn", description=(
        "Score the trained checkpoint on BFCL's multi-turn categories (needs Train)."))
    config_file: str = Field("", title="Config file (everything else)", description=(
        "A YAML/JSON PipelineConfig on the worker, relative to the project directory, for every other setting; "
        "the fields above override it. Empty = the defaults."))


def form_parameter(name: str) -> Any:
    """A flow parameter default carrying the form field's title, description and bounds into the UI schema."""
    field: FieldInfo = OperatorForm.model_fields[name]
    extra: dict[str, Any] = {"title": field.title}
    for meta in field.metadata:
        for attribute, key in (("ge", "minimum"), ("le", "maximum")):
            if getattr(meta, attribute, None) is not None:
                extra[key] = getattr(meta, attribute)
    return Field(field.default, description=field.description, json_schema_extra=extra)


def read_config_file(path: str) -> dict[str, Any]:
    if not path:
        return {}
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"config file {path!r} not found (relative paths start at {Path.cwd()})")
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a pipeline config is a YAML/JSON mapping")
    return raw


def pool_settings(pool: str) -> dict[str, Any]:
    if pool in ("", "bfcl"):
        return {"kind": "bfcl"}
    if pool.endswith((".json", ".jsonl")):
        return {"kind": "openai-json", "source": pool}
    return {"kind": "python", "source": pool}


def apply_teacher(raw: dict[str, Any], teacher: str) -> None:
    """The form's teacher becomes the config's `teacher` alias, which every model-backed role defaults to.

    A name that is an alias of the file's `models:` registry takes that entry (and the roles mapped to
    it follow); anything else is a litellm model string."""
    if not teacher:
        return
    models = dict(raw.get("models") or {})
    if teacher in models:
        entry = models.pop(teacher)
        raw["roles"] = {role: DEFAULT_ALIAS if alias == teacher else alias
                        for role, alias in (raw.get("roles") or {}).items()}
    else:
        entry = single_model(teacher)[DEFAULT_ALIAS]
    raw["models"] = {**models, DEFAULT_ALIAS: entry}


def apply_size(raw: dict[str, Any], dataset_size: int) -> None:
    """Dataset size -> the size target (SFT rows); the form's number replaces per-category counts of the file."""
    target = {k: v for k, v in (raw.get("target") or {}).items() if k != "sft_counts"}
    raw["target"] = {**target, "sft_rows": dataset_size}


def to_pipeline_config(form: OperatorForm) -> PipelineConfig:
    raw = read_config_file(form.config_file)
    apply_teacher(raw, form.teacher)
    apply_size(raw, form.dataset_size)
    raw["pool"] = {**raw.get("pool", {}), **pool_settings(form.pool)}
    raw["llm"] = {**raw.get("llm", {}), "max_cost_usd": form.budget_usd or None}
    if not form.train:
        raw["training"] = None
    elif raw.get("training", {}) is None:
        raw["training"] = {}
    if form.evaluate and not form.train:
        raise ValueError("Evaluate needs Train: there is no checkpoint to evaluate")
    raw["evaluation"] = (raw.get("evaluation") or {}) if form.evaluate else None
    return PipelineConfig.model_validate(raw)


@flow(name="magnet-factory", description="Synthesise a Magnet dataset (and train on it) from a short form.")
def factory_flow(
    teacher: str = form_parameter("teacher"),
    pool: str = form_parameter("pool"),
    dataset_size: int = form_parameter("dataset_size"),
    budget_usd: float = form_parameter("budget_usd"),
    train: bool = form_parameter("train"),
    evaluate: bool = form_parameter("evaluate"),
    config_file: str = form_parameter("config_file"),
) -> Any:
    from flows.pipeline import run_pipeline

    form = OperatorForm(teacher=teacher, pool=pool, dataset_size=dataset_size, budget_usd=budget_usd, train=train,
                        evaluate=evaluate, config_file=config_file)
    config = to_pipeline_config(form)
    if config.training is None:
        return run_pipeline(config, until="assemble")
    return run_pipeline(config, until="evaluate" if config.evaluation is not None else "train_mdpo")
