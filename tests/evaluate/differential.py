"""Differential harness: bfcl-eval's official multi-turn checker against `magnet eval`'s, same answers.

An *answer* is what a model returned for one case: per turn, per step, a raw reply, either OpenAI
`tool_calls` ({name: JSON arguments}, BFCL's FC format) or Qwen text with `<tool_call>` blocks. The
official side decodes it with the installed package's own decoders (`convert_to_function_call` and
`QwenFCHandler`'s block reader, compiled from the installed source because the handler modules import
SDKs we do not install) and runs `multi_turn_checker`, which `eval()`s the call strings. That is safe
here only because every answer is built by this harness from the package's ground truth, never model
output. Our side parses the same replies with `reply_calls` and judges with `check_case`.

Answers: the ground truth (FC and text), and seeded perturbations of it: a dropped, duplicated or
reordered call, calls split over steps, a changed value, a number sent as text or an int as a float
(types BFCL runs anyway), float-precision probes (numbers moved by a small amount, mpmath precision
changed), a call on a turn that should ask, an unknown function, and text-format quirks (a block
without newlines, an unreadable block beside good ones, an unterminated block, arguments as JSON text,
a namespaced name) and FC quirks (arguments that are not JSON beside good calls, namespaced names).
"""

from __future__ import annotations

import ast
import copy
import json
import random
import re
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import bfcl_eval
from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils
from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker, multi_turn_irrelevance_checker

from magnet_core.domain.calls import FunctionCall
from magnet_core.evaluate.bfcl_data import EvalCase
from magnet_core.evaluate.checker import check_case
from magnet_core.evaluate.ground_truth import parse_ground_truth_turns
from magnet_core.evaluate.replies import AssistantReply, reply_calls

Reply = dict[str, Any]  # {"fc": [{name: json_args}]} or {"text": "..."}
Answer = list[list[Reply]]
PACKAGE = Path(bfcl_eval.__file__).parent


def _official_functions() -> dict[str, Callable]:
    """The installed package's decoders, compiled from its source (decorators dropped)."""
    wanted = {
        PACKAGE / "model_handler/utils.py": {"convert_to_function_call"},
        PACKAGE / "model_handler/local_inference/qwen_fc.py": {"_extract_tool_calls", "decode_execute"},
    }
    namespace: dict[str, Any] = {"re": re, "json": json}
    for path, names in wanted.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in names:
                node.decorator_list = []
                exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102 - package code
    return namespace


_OFFICIAL = _official_functions()


def official_decode(reply: Reply) -> list[str]:
    if "fc" in reply:
        return _OFFICIAL["convert_to_function_call"](reply["fc"])
    handler = SimpleNamespace(_extract_tool_calls=_OFFICIAL["_extract_tool_calls"])
    return _OFFICIAL["decode_execute"](handler, reply["text"], False)


def official_verdict(case: EvalCase, answer: Answer, check_ask_turns: bool) -> bool:
    """BFCL's eval runner: decode each step (failures and empty steps skipped), then its checkers."""
    decoded = []
    for turn in answer:
        steps = []
        for reply in turn:
            try:
                calls = official_decode(reply)
            except Exception:  # noqa: BLE001 - the runner skips any step it cannot decode
                continue
            if not multi_turn_utils.is_empty_execute_response(calls):
                steps.append(calls)
        decoded.append(steps)
    truth = [list(turn) for turn in case.ground_truth]
    if check_ask_turns and not multi_turn_irrelevance_checker(decoded, truth)["valid"]:
        return False
    model_name = f"diff_{uuid.uuid4().hex}"
    entry = {"id": case.case_id, "initial_config": copy.deepcopy(case.initial_config), "involved_classes": list(case.involved_classes)}
    try:
        return bool(multi_turn_checker(decoded, truth, entry, f"multi_turn_{case.category}", model_name)["valid"])
    finally:
        for key in [k for k in vars(multi_turn_utils) if k.startswith(model_name)]:
            del vars(multi_turn_utils)[key]  # the instances BFCL parks in its module globals


def our_verdict(case: EvalCase, answer: Answer, specs: list, check_ask_turns: bool) -> bool:
    by_name = {spec.name: spec for spec in specs}
    model_calls = []
    for turn in answer:
        steps = []
        for reply in turn:
            message = AssistantReply(tool_calls=tuple(_openai(reply["fc"]))) if "fc" in reply else AssistantReply(content=reply["text"])
            calls, _ = reply_calls(message)
            if calls:
                steps.append(calls)
        model_calls.append(steps)
    truth = parse_ground_truth_turns(case.ground_truth, by_name)
    return check_case(case, model_calls, truth, specs, check_ask_turns=check_ask_turns).valid


def _openai(fc: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"id": f"c{i}", "type": "function", "function": {"name": name, "arguments": args}}
            for i, item in enumerate(fc) for name, args in item.items()]


# ---- answers -------------------------------------------------------------------------------------

def fc_step(calls: list[FunctionCall]) -> Reply:
    return {"fc": [{call.name: json.dumps(call.arguments)} for call in calls]}


def text_step(calls: list[FunctionCall], block: Callable[[FunctionCall], str] | None = None) -> Reply:
    block = block or (lambda call: "<tool_call>\n" + json.dumps({"name": call.name, "arguments": call.arguments}) + "\n</tool_call>")
    return {"text": "\n".join(block(call) for call in calls)}


def _steps(turns: list[list[FunctionCall]], step: Callable = fc_step) -> Answer:
    return [[step(turn)] if turn else [] for turn in turns]


def _calling_turns(turns: list[list[FunctionCall]]) -> list[int]:
    return [i for i, turn in enumerate(turns) if turn]


def _with_argument(call: FunctionCall, name: str, value: Any) -> FunctionCall:
    return FunctionCall(name=call.name, arguments={**call.arguments, name: value})


def _numeric_args(turns) -> list[tuple[int, int, str]]:
    return [(t, c, k) for t, turn in enumerate(turns) for c, call in enumerate(turn)
            for k, v in call.arguments.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _pick(rng: random.Random, options: list):
    return rng.choice(options) if options else None


def perturbations(truth: list[list[FunctionCall]], rng: random.Random) -> dict[str, Answer]:
    """Named answers for one case; a perturbation that does not apply to the case is left out."""
    turns = [list(turn) for turn in truth]
    out: dict[str, Answer] = {"truth_fc": _steps(turns), "truth_text": _steps(turns, text_step)}
    calling = _calling_turns(turns)
    t = rng.choice(calling)
    c = rng.randrange(len(turns[t]))

    dropped = copy.deepcopy(turns)
    del dropped[t][c]
    out["drop_call"] = _steps(dropped)
    duplicated = copy.deepcopy(turns)
    duplicated[t].insert(c, turns[t][c])
    out["duplicate_call"] = _steps(duplicated)
    if len(turns[t]) > 1:
        swapped = copy.deepcopy(turns)
        swapped[t] = swapped[t][::-1]
        out["reverse_turn"] = _steps(swapped)
    out["one_call_per_step"] = [[fc_step([call]) for call in turn] for turn in turns]

    call = turns[t][c]
    if call.arguments:
        key = rng.choice(sorted(call.arguments))
        value = call.arguments[key]
        changed = copy.deepcopy(turns)
        changed[t][c] = _with_argument(call, key, _changed(value, rng))
        out["change_value"] = _steps(changed)
    numeric = _numeric_args(turns)
    spot = _pick(rng, numeric)
    if spot:
        nt, nc, key = spot
        value = turns[nt][nc].arguments[key]
        as_text = copy.deepcopy(turns)
        as_text[nt][nc] = _with_argument(turns[nt][nc], key, str(value))
        out["number_as_text"] = _steps(as_text)
        as_float = copy.deepcopy(turns)
        as_float[nt][nc] = _with_argument(turns[nt][nc], key, float(value) if isinstance(value, int) else value + 0.0)
        out["int_as_float"] = _steps(as_float)
        nudged = copy.deepcopy(turns)
        nudged[nt][nc] = _with_argument(turns[nt][nc], key, value + (1e-6 if isinstance(value, float) else 1))
        out["float_precision_nudge"] = _steps(nudged)
    for nt, nc in [(a, b) for a, turn in enumerate(turns) for b, call in enumerate(turn) if call.name == "logarithm"][:1]:
        probe = copy.deepcopy(turns)
        probe[nt][nc] = _with_argument(turns[nt][nc], "value", turns[nt][nc].arguments["value"] + 1)
        out["logarithm_value_probe"] = _steps(probe)

    asks = [i for i, turn in enumerate(turns) if not turn]
    if asks:
        later = next((turn for turn in turns[asks[0] + 1:] if turn), None)
        if later:
            guessed = copy.deepcopy(turns)
            guessed[asks[0]] = [later[0]]
            out["call_on_ask_turn"] = _steps(guessed)
    unknown = copy.deepcopy(turns)
    unknown[t].append(FunctionCall(name="no_such_function", arguments={"x": 1}))
    out["unknown_function"] = _steps(unknown)

    # Text-format quirks on the chosen turn; every other turn is well-formed text.
    def quirk(render: Callable[[list[FunctionCall]], Reply]) -> Answer:
        answer = _steps(turns, text_step)
        answer[t] = [render(turns[t])]
        return answer

    out["text_no_newlines"] = quirk(lambda calls: text_step(calls, lambda k: "<tool_call>" + json.dumps({"name": k.name, "arguments": k.arguments}) + "</tool_call>"))
    out["text_bad_block_beside_good"] = quirk(lambda calls: {"text": "<tool_call>\n{not json}\n</tool_call>\n" + text_step(calls)["text"]})
    out["text_unterminated_last"] = quirk(lambda calls: {"text": text_step(calls)["text"].rsplit("\n</tool_call>", 1)[0]})
    out["text_arguments_as_json_text"] = quirk(lambda calls: text_step(calls, lambda k: "<tool_call>\n" + json.dumps({"name": k.name, "arguments": json.dumps(k.arguments)}) + "\n</tool_call>"))
    out["text_non_object_block"] = quirk(lambda calls: {"text": text_step(calls)["text"] + "\n<tool_call>\n[1, 2]\n</tool_call>"})
    out["text_namespaced_name"] = quirk(lambda calls: text_step(calls, lambda k: "<tool_call>\n" + json.dumps({"name": "functions." + k.name, "arguments": k.arguments}) + "\n</tool_call>"))
    fc_quirk = _steps(turns)
    fc_quirk[t] = [{"fc": fc_step(turns[t])["fc"] + [{turns[t][0].name: "{not json"}]}]
    out["fc_bad_json_beside_good"] = fc_quirk
    fc_names = _steps(turns)
    fc_names[t] = [{"fc": [{"functions." + call.name: json.dumps(call.arguments)} for call in turns[t]]}]
    out["fc_namespaced_name"] = fc_names
    return out


def _changed(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + rng.choice([1, 2, 10])
    if isinstance(value, str):
        return value + "_x"
    if isinstance(value, list):
        return value[:-1] if value else ["x"]
    return "changed"


def compare(cases: list[EvalCase], specs: list, seed: int, check_ask_turns: bool = False) -> list[dict[str, Any]]:
    """One row per (case, answer): both verdicts."""
    by_name = {spec.name: spec for spec in specs}
    rows = []
    for case in cases:
        truth = parse_ground_truth_turns(case.ground_truth, by_name)
        rng = random.Random(f"{seed}:{case.case_id}")
        for name, answer in perturbations(truth, rng).items():
            ours = our_verdict(case, answer, specs, check_ask_turns)
            official = official_verdict(case, answer, check_ask_turns)
            rows.append({"case_id": case.case_id, "category": case.category, "answer": name, "official": official, "ours": ours})
    return rows
