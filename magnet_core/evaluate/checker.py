"""The verdict on one case: BFCL's multi-turn checking, with execution done by our executor.

BFCL's `multi_turn_checker` re-executes the model's and the ground truth's calls through
`execute_multi_turn_func_call`, which `eval()`s call strings. We never call it. Instead this module
replays the same turn loop (model calls and ground-truth calls on two fresh sets of instances, turn by
turn) with `CaseEnvironment`, and hands the resulting instances and result strings to BFCL's own
comparison functions: `state_checker` (public attributes of every instance equal),
`response_checker` (every ground-truth result of the turn appears among the model's results so far,
order-free) and `is_empty_execute_response`. Ground truth is trusted package data, but it too goes
through `parse_calls` and the executor, so there is one execution path.

Arguments are not checked against the schema before running (BFCL runs them as written). How many
model calls break their function's parameter schema (or name no function of the case) is counted
apart in `schema_violations`, for the strict-schema score reported beside the headline.

`check_ask_turns` adds BFCL's `multi_turn_irrelevance_checker`, as BFCL-v3's runner applied it: a
turn whose ground truth is empty (missing function or parameter) fails if the model made any call.
Later BFCL releases commented that check out; it is on by default here and recorded in the config.
"""

from __future__ import annotations

import json
from typing import Any

from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import (
    multi_turn_irrelevance_checker,
    response_checker,
    state_checker,
)
from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import is_empty_execute_response
from pydantic import BaseModel, ConfigDict

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.evaluate.bfcl_data import EvalCase
from magnet_core.evaluate.environment import CaseEnvironment, bfcl_result_text
from magnet_core.execution.executor import argument_problem

MAX_DETAIL_CHARS = 4000
FORCE_TERMINATED = "multi_turn:force_terminated"
EMPTY_TURN = "multi_turn:empty_turn_model_response"
ASKED_NOTHING = "multi_turn:irrelevance_error:decoder_success"


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    valid: bool
    error_type: str = ""
    error_message: str = ""
    failing_turn: int | None = None
    details: str = ""
    schema_violations: int = 0


ModelCalls = list[list[list[FunctionCall]]]
"""Per turn, per step, the calls the model made (steps without calls left out, as BFCL decodes)."""


def check_case(
    case: EvalCase,
    model_calls: ModelCalls,
    ground_truth: list[list[FunctionCall]],
    specs: list[FunctionSpec],
    *,
    check_ask_turns: bool = True,
) -> Verdict:
    verdict = _verdict(case, model_calls, ground_truth, specs, check_ask_turns)
    return verdict.model_copy(update={"schema_violations": schema_violations(case, model_calls, specs)})


def schema_violations(case: EvalCase, model_calls: ModelCalls, specs: list[FunctionSpec]) -> int:
    """Model calls that name no function of the case's classes or break its parameter schema."""
    by_name = {spec.name: spec for spec in specs if spec.tool_class in case.involved_classes}
    calls = [call for turn in model_calls for step in turn for call in step]
    return sum(1 for call in calls if call.name not in by_name or argument_problem(by_name[call.name].parameters, call.arguments))


def _verdict(case: EvalCase, model_calls: ModelCalls, ground_truth: list[list[FunctionCall]], specs: list[FunctionSpec], check_ask_turns: bool) -> Verdict:
    if len(model_calls) != len(ground_truth):
        return Verdict(
            valid=False,
            error_type=FORCE_TERMINATED,
            error_message=f"the model was stopped after {len(model_calls)} of {len(ground_truth)} turns (step limit)",
            failing_turn=max(len(model_calls) - 1, 0),
        )
    decoded = [[[call.to_bfcl() for call in step] for step in turn if step] for turn in model_calls]
    truth_text = [[call.to_bfcl() for call in turn] for turn in ground_truth]
    if check_ask_turns:
        irrelevance = multi_turn_irrelevance_checker(decoded, truth_text)
        if not irrelevance["valid"]:
            turn = next(i for i, steps in enumerate(decoded) if not truth_text[i] and not is_empty_execute_response(steps))
            return _failed(irrelevance, turn)
    return _accuracy(case, decoded, model_calls, ground_truth, specs)


def _accuracy(case: EvalCase, decoded: list, model_calls: ModelCalls, ground_truth: list[list[FunctionCall]], specs: list[FunctionSpec]) -> Verdict:
    with CaseEnvironment(case, specs) as model_env, CaseEnvironment(case, specs) as truth_env:
        all_model_results: list[str] = []
        for turn_index, truth_calls in enumerate(ground_truth):
            for step in model_calls[turn_index]:
                if step:
                    all_model_results.extend(bfcl_result_text(r) for r in model_env.execute(step))
            truth_results = [bfcl_result_text(r) for r in truth_env.execute(truth_calls)]
            if not truth_calls:
                continue
            if is_empty_execute_response(decoded[turn_index]):
                return Verdict(
                    valid=False,
                    error_type=EMPTY_TURN,
                    error_message=f"Model response list is empty for turn {turn_index}",
                    failing_turn=turn_index,
                )
            state = state_checker(model_env.instances, truth_env.instances)
            if not state["valid"]:
                return _failed(state, turn_index, keep=("differences",))
            response = response_checker(all_model_results, truth_results, turn_index)
            if not response["valid"]:
                return _failed(response, turn_index, keep=("missing_items",))
    return Verdict(valid=True)


def _failed(result: dict[str, Any], turn_index: int, keep: tuple[str, ...] = ("details",)) -> Verdict:
    details = result.get("details", result)
    if isinstance(details, dict):
        details = {key: details[key] for key in keep if key in details} or details
    text = json.dumps(details, default=str, ensure_ascii=False)
    if len(text) > MAX_DETAIL_CHARS:
        text = text[:MAX_DETAIL_CHARS] + "...(truncated)"
    return Verdict(
        valid=False,
        error_type=str(result.get("error_type", "")),
        error_message=str(result.get("error_message", "")),
        failing_turn=turn_index,
        details=text,
    )
