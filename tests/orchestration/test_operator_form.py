"""The run form of the nightly and on-demand deployments: flat, labelled, ordered, and mapped onto the config."""

from __future__ import annotations

import json

import pytest

from flows.operator_form import OperatorForm, factory_flow, to_pipeline_config

ORDER = ["teacher", "pool", "dataset_size", "budget_usd", "train", "evaluate", "config_file"]


def test_the_form_is_flat_labelled_and_ordered():
    schema = factory_flow.parameters.model_dump()
    properties = schema["properties"]
    assert sorted(properties, key=lambda name: properties[name]["position"]) == ORDER
    assert not schema.get("definitions"), "no nested group titled by a class name"
    for name, field in properties.items():
        assert field["title"] and field["title"] != name, name
        assert len(field.get("description", "")) > 30, name
        assert "anyOf" not in field and field["type"] != "null", f"{name} would render as an Optional choice"
    assert "Optional" not in json.dumps(schema) and "default:" not in json.dumps(schema)
    assert properties["dataset_size"]["minimum"] == 1 and properties["budget_usd"]["minimum"] == 0


def test_teacher_size_budget_and_switches_map_onto_the_pipeline_config():
    config = to_pipeline_config(OperatorForm(teacher="openai/gpt-4o-mini", dataset_size=7, budget_usd=2.5,
                                             train=False))
    stages = config.resolved
    assert {m.model for m in stages.by_role.values()} == {"openai/gpt-4o-mini"}
    assert {"query_writer", "call_writer", "teacher"} <= set(stages.by_role)
    assert stages.translate.models.query_writer.model == stages.distill.models.teacher.model == "openai/gpt-4o-mini"
    assert config.target.sft_rows == 7 and config.llm.max_cost_usd == 2.5
    assert config.training is None and config.evaluation is None and not config.offline

    default = to_pipeline_config(OperatorForm())
    assert default.offline and default.llm.max_cost_usd is None and default.training is not None
    assert default.pool.kind == "bfcl"
    assert to_pipeline_config(OperatorForm(pool="pools/tools.jsonl", train=False)).pool.kind == "openai-json"
    with pytest.raises(ValueError, match="Evaluate needs Train"):
        to_pipeline_config(OperatorForm(train=False, evaluate=True))


def test_the_config_file_holds_the_rest_and_an_alias_names_a_registry_model(tmp_path):
    path = tmp_path / "factory.yaml"
    path.write_text("models:\n  house: {model: hosted_vllm/qwen, api_base: 'http://gpu-box:8000/v1'}\n"
                    "  small: {model: hosted_vllm/qwen-0.5b, api_base: 'http://gpu-box:8001/v1'}\n"
                    "roles: {negative_sampler: small, error_judge: house}\n"
                    "shard_size: 3\ntraining: {sft_max_steps: 1, deployment: magnet-training/gpu}\n"
                    "target: {sft_counts: {single_turn: 5}, preference_pairs: 9, top_up_rounds: 0}\n")
    config = to_pipeline_config(OperatorForm(teacher="house", config_file=str(path), dataset_size=4))
    assert config.shard_size == 3 and config.target.sft_rows == 4 and config.target.sft_counts is None
    assert config.target.preference_pairs == 9 and config.target.top_up_rounds == 0, "the rest of the file's target"
    stages = config.resolved
    assert stages.translate.models.call_writer.api_base == "http://gpu-box:8000/v1"
    assert stages.distill.models.error_judge.model == "hosted_vllm/qwen"
    assert stages.distill.models.negative_sampler.model == "hosted_vllm/qwen-0.5b", "other aliases keep their roles"
    assert config.training.deployment == "magnet-training/gpu" and config.training.sft_max_steps == 1
    with pytest.raises(ValueError, match="not found"):
        to_pipeline_config(OperatorForm(config_file=str(tmp_path / "missing.yaml")))
