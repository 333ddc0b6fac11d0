"""Pools without backends: schema-driven outputs offline, model-simulated outputs with a simulator model;
both marked as simulated all the way into the trajectory metadata."""

from __future__ import annotations

import json

import pytest

from magnet_core.distill.stage import DistillConfig, distill
from magnet_core.domain import FunctionSignaturePath, Plan, PlanTurn
from magnet_core.llm.client import LLMClient
from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.llm.types import ModelConfig
from magnet_core.pools import load_pool
from magnet_core.roles.llm_role import RoleModels
from magnet_core.translate.stage import TranslateConfig, translate_plans

TOOLS = [
    {"type": "function", "function": {"name": "find_city", "description": "Find the city of an airport code.",
                                      "parameters": {"type": "object", "properties": {"code": {"type": "string", "description": "Airport code, e.g. 'SFO'"}},
                                                     "required": ["code"]}},
     "response": {"type": "object", "properties": {"city": {"type": "string"}}}},
    {"type": "function", "function": {"name": "get_weather", "description": "Get the weather forecast for a city.",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "Name of the city"}},
                                                     "required": ["city"]}},
     "response": {"type": "object", "properties": {"forecast": {"type": "string"}, "temperature_c": {"type": "number"}}}},
]


@pytest.fixture(scope="module")
def simulated_pool(tmp_path_factory):
    path = tmp_path_factory.mktemp("pool") / "tools.json"
    path.write_text(json.dumps(TOOLS))
    return load_pool("openai-json", str(path))


def _plan() -> Plan:
    return Plan(plan_id="weather", path=FunctionSignaturePath(nodes=("find_city", "get_weather"), seed=0),
                turns=(PlanTurn(functions=("find_city", "get_weather"), implicit=("get_weather",)),))


def test_schema_driven_outputs_are_marked_simulated(simulated_pool):
    result = translate_plans(simulated_pool, [_plan()], TranslateConfig(seed=1))
    item = result.translated[0]
    assert item.simulated is True and all(r.simulated for r in item.turns[0].results)
    city = item.turns[0].results[0].output["city"]
    assert item.turns[0].reference_calls[1].arguments == {"city": city}  # the nested call reuses the output
    distilled = distill(simulated_pool, result.translated, DistillConfig(seed=1))
    assert distilled.trajectories[0].metadata["simulated"] is True


def test_model_simulated_outputs(simulated_pool):
    rules = AnswerRules(mode="script", script=(ScriptRule(pattern="stand in for a function", target="prompt",
                                                          content='{"city": "Lisbon", "forecast": "sunny", "temperature_c": 24}'),))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        model = ModelConfig(model="openai/fake-sim", api_base=server.url, timeout_s=10.0, max_retries=1)
        result = translate_plans(simulated_pool, [_plan()], TranslateConfig(seed=1, models=RoleModels(simulator=model)),
                                 client=LLMClient())
        assert server.stats.chat_requests == 2
    turn = result.translated[0].turns[0]
    assert turn.results[0].output["city"] == "Lisbon" and turn.results[0].simulated
    assert turn.reference_calls[1].arguments == {"city": "Lisbon"}
    assert result.translated[0].models["simulator"] == "openai/fake-sim"
