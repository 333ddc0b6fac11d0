"""Simulator: plausible tool outputs for pools that have no backend, always marked as simulated.

Offline, the pool's schema-driven session answers (deterministic, no semantics). With a model, the
simulator reads the function's doc, its response schema and the arguments and answers a JSON object; the
answer must be a JSON object, and arguments are validated against the schema before anything is asked.
"""

from __future__ import annotations

import json

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import CallErrorKind, CallResult
from magnet_core.execution.executor import argument_problem
from magnet_core.llm.types import LLMResponse, ModelConfig
from magnet_core.prompts import load_prompt
from magnet_core.roles.llm_role import (
    DEFAULT_MAX_REASKS,
    LLMClientLike,
    ReaskExhausted,
    build_request,
    complete_parsed,
    parse_json_object,
)

ROLE = "simulator"


def simulator_request(spec: FunctionSpec, call: FunctionCall, history_text: str = ""):
    prompt = load_prompt(ROLE)
    system = prompt.render(function=json.dumps(spec.to_openai_tool()["function"], ensure_ascii=False),
                           response_schema=json.dumps(spec.response or {}, ensure_ascii=False))
    user = f"Earlier outputs:\n{history_text or '(none)'}\nCall: {call.to_bfcl()}"
    return build_request(ROLE, "translate", [{"role": "system", "content": system}, {"role": "user", "content": user}],
                         (), {"temperature": 0.0})


def parse_simulated_output(response: LLMResponse) -> dict:
    return parse_json_object(response.content, "simulator")


async def simulate_output(spec: FunctionSpec, call: FunctionCall, client: LLMClientLike, model: ModelConfig,
                          history_text: str = "", max_reasks: int = DEFAULT_MAX_REASKS) -> tuple[CallResult, float]:
    problem = argument_problem(spec.parameters, call.arguments)
    if problem:
        return CallResult(call=call, ok=False, error=problem, error_kind=CallErrorKind.INVALID_ARGUMENTS, simulated=True), 0.0
    try:
        output, cost = await complete_parsed(client, model, simulator_request(spec, call, history_text),
                                             parse_simulated_output, max_reasks, "simulator")
    except ReaskExhausted as error:
        return CallResult(call=call, ok=False, error=str(error), error_kind=CallErrorKind.EXCEPTION, simulated=True), error.cost_usd
    return CallResult(call=call, ok=True, output=output, simulated=True), cost
