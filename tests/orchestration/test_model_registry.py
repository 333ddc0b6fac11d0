"""Models defined once: one `teacher` alias covers every role; what cannot be meant is refused by name."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flows.configs import PipelineConfig
from magnet_core.llm.registry import OPT_IN_ROLES, ROLES

TEACHER = {"model": "hosted_vllm/qwen", "api_base": "http://127.0.0.1:9/v1"}


def test_one_teacher_alias_fills_every_role_of_every_configured_stage():
    config = PipelineConfig(models={"teacher": TEACHER})  # graph.judge stays `auto`: the teacher judges too
    resolved = config.resolved
    assert set(resolved.by_role) == set(ROLES) - OPT_IN_ROLES, "opt-in checks (the leak judge) never follow the teacher"
    assert resolved.distill.models.leak_judge is None and "leak_judge" not in resolved.distill.roles
    assert {m.model for m in resolved.by_role.values()} == {"hosted_vllm/qwen"}
    for role in ("query_writer", "call_writer", "simulator"):
        assert resolved.translate.models.for_role(role).model == "hosted_vllm/qwen"
    for role in ("teacher", "negative_sampler", "error_judge"):
        assert resolved.distill.models.for_role(role).model == "hosted_vllm/qwen"
    assert resolved.distill.student.model == resolved.single_turn.models.teacher.model == "hosted_vllm/qwen"
    for role in ("query_writer", "call_writer"):  # single-turn queries and call values are the model's too
        assert resolved.single_turn.models.for_role(role).model == "hosted_vllm/qwen"
    assert not resolved.single_turn.offline
    assert resolved.judge.model == resolved.labeller.model == "hosted_vllm/qwen"
    assert resolved.graph.judge == "llm" and config.graph.judge == "auto"
    assert not config.offline and len(resolved.distinct()) == 1
    # the user-facing config stays free of resolved slots, so its JSON form (Prefect's parameters) re-validates
    assert PipelineConfig.model_validate_json(config.model_dump_json()) == config


def test_roles_map_a_second_model_and_the_rest_stay_on_the_teacher():
    config = PipelineConfig(models={"teacher": TEACHER, "small": {"model": "ollama/qwen2.5:0.5b"}},
                            roles={"student": "small"})
    resolved = config.resolved
    assert resolved.distill.student.model == "ollama/qwen2.5:0.5b"
    assert resolved.distill.models.teacher.model == "hosted_vllm/qwen"
    assert resolved.judge.model == "hosted_vllm/qwen", "unmapped roles, the graph judge too, follow the teacher"
    assert {roles: model.model for roles, model in resolved.distinct()}.keys() >= {("student",)}


def test_the_leak_judge_runs_only_when_roles_maps_it():
    config = PipelineConfig(models={"teacher": TEACHER, "judge": {"model": "openai/gpt-4o-mini"}},
                            roles={"leak_judge": "judge"})
    distill = config.resolved.distill
    assert distill.models.leak_judge.model == "openai/gpt-4o-mini" and distill.roles[-1] == "leak_judge"
    assert PipelineConfig(models={"teacher": TEACHER}, roles={"leak_judge": "teacher"}).resolved.distill.models.leak_judge \
        .model == "hosted_vllm/qwen", "one model for everything, the judge included, is one roles: line"


def test_without_a_teacher_alias_only_mapped_roles_use_a_model():
    resolved = PipelineConfig(models={"w": TEACHER}, roles={"query_writer": "w"}).resolved
    assert set(resolved.by_role) == {"query_writer"}
    assert resolved.translate.models.call_writer is None and resolved.distill.offline


def test_no_models_is_the_offline_default():
    assert PipelineConfig().offline and PipelineConfig().resolved.by_role == {}
    assert PipelineConfig().resolved.graph == PipelineConfig(graph={"judge": "heuristic"}).graph, \
        "offline, `auto` reaches the graph stage as the heuristic judge (same cache key and metadata as before)"


@pytest.mark.parametrize("raw, judge", [
    ({}, "heuristic"),
    ({"models": {"teacher": TEACHER}}, "llm"),
    ({"models": {"teacher": TEACHER}, "graph": {"judge": "heuristic"}}, "heuristic"),
    ({"models": {"w": TEACHER}, "roles": {"query_writer": "w"}}, "heuristic"),
    ({"models": {"w": TEACHER}, "roles": {"query_writer": "w", "dependency_judge": "w"}}, "llm"),
    ({"models": {"w": TEACHER}, "roles": {"dependency_judge": "w"}, "graph": {"judge": "llm"}}, "llm"),
])
def test_the_graph_judge_follows_the_registry(raw, judge):
    resolved = PipelineConfig(**raw).resolved
    assert resolved.graph.judge == judge
    assert ("dependency_judge" in resolved.by_role) == (judge == "llm"), "an explicit heuristic judge is not a called role"


@pytest.mark.parametrize("raw, field", [
    ({"models": {"teacher": TEACHER}, "roles": {"writer": "teacher"}}, "roles.writer: unknown role"),
    ({"models": {"teacher": TEACHER}, "roles": {"student": "big"}}, "roles.student: unknown model alias 'big'"),
    ({"models": {"teacher": TEACHER}, "roles": {"dependency_judge": "teacher"}, "graph": {"judge": "heuristic"}},
     "roles.dependency_judge: no configured stage"),
    ({"models": {"w": TEACHER}, "roles": {"query_writer": "w"}, "graph": {"judge": "llm"}}, "graph.judge: 'llm' needs a model"),
    ({"models": {"teacher": TEACHER}, "single_turn": {"single": 0, "parallel": 0, "multiple": 0, "irrelevance": 0},
      "distill": {"pairs_per_scenario": 0}, "roles": {"teacher": "teacher"}}, None),
    ({"models": {"teacher": TEACHER, "spare": TEACHER}}, "models.spare: no role uses this model"),
    ({"graph": {"judge": "llm"}}, "graph.judge: 'llm' needs a model for the dependency_judge role"),
    ({"translate": {"models": {"query_writer": TEACHER}}}, "translate.models: models are named once"),
    ({"translate": {"models": {"teacher": TEACHER}}}, "translate.models.teacher: the translate stage never calls"),
    ({"distill": {"models": {"category_labeller": TEACHER}}}, "distill.models.category_labeller: the distill stage never"),
    ({"single_turn": {"models": {"simulator": TEACHER}}}, "single_turn.models.simulator: the single_turn stage never"),
    ({"single_turn": {"models": {"query_writer": TEACHER}}}, "single_turn.models: models are named once"),
    ({"single_turn": {"models": {"teacher": TEACHER}}}, "single_turn.models: models are named once"),
    ({"distill": {"student": TEACHER}}, "distill.student: models are named once"),
    ({"models": {"teacher": {"model": "x", "api_key": "sk-1"}}}, "api_key"),
])
def test_what_cannot_be_meant_is_refused_naming_the_field(raw, field):
    if field is None:  # the distill stage still calls the teacher role: valid
        PipelineConfig(**raw)
        return
    with pytest.raises(ValidationError, match=field.replace("(", r"\(").replace(")", r"\)")):
        PipelineConfig(**raw)


def test_magnet_run_teacher_flags_make_the_one_alias_config(tmp_path):
    from magnet_core.cli.run_command import load_config

    config = load_config(None, str(tmp_path), None, None, True, "openai/gpt-4o-mini", "http://127.0.0.1:9/v1", "MY_KEY")
    teacher = config.models["teacher"]
    assert (teacher.model, teacher.api_base, teacher.api_key_env) == ("openai/gpt-4o-mini", "http://127.0.0.1:9/v1", "MY_KEY")
    assert config.resolved.distill.models.error_judge == teacher
    assert config.resolved.judge == teacher and config.resolved.graph.judge == "llm", "--teacher judges the graph too"
    assert config.resolved.distill.models.leak_judge is None, "--teacher alone never turns the leak judge on"
    judged = load_config(None, str(tmp_path), None, None, True, "openai/gpt-4o-mini", leak_judge=True)
    assert judged.roles == {"leak_judge": "teacher"} and judged.resolved.distill.models.leak_judge.model == "openai/gpt-4o-mini"
    assert judged.resolved.single_turn.models.leak_judge == judged.resolved.distill.models.leak_judge


def test_example_configs_validate():
    from pathlib import Path

    import yaml

    examples = sorted(Path(__file__).resolve().parents[2].joinpath("examples").glob("*.yaml"))
    assert len(examples) >= 3
    for path in examples:
        config = PipelineConfig.model_validate(yaml.safe_load(path.read_text()))
        assert config.models["teacher"].model and not config.offline, path


def test_the_run_banner_names_the_pool_it_really_uses():
    from magnet_core.cli.run_command import banner

    assert banner(PipelineConfig()) == "[offline default] no teacher model configured: offline roles, BFCL pool, no API key needed"
    mcp = banner(PipelineConfig(pool={"kind": "mcp", "source": "mcp-server-git; mcp-server-memory"}))
    assert mcp.startswith("[offline default]") and "mcp pool mcp-server-git; mcp-server-memory" in mcp and "BFCL" not in mcp
    teacher = PipelineConfig(models={"teacher": {"model": "openai/gpt-4o-mini"}})
    assert banner(teacher) == "teacher models configured: roles call the LLM client"
