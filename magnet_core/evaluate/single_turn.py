"""BFCL single-turn (AST) and relevance/irrelevance judging, with bfcl-eval's own checker.

The model sees the entry's functions the way BFCL's Qwen FC handler offers them: docs with BFCL's
language hints (`_func_doc_language_specific_pre_processing`), names kept (Qwen's
`underscore_to_dot=False`), types cast to OpenAI schema types so any OpenAI-compatible server or chat
template accepts them. Its reply is decoded as BFCL's handlers decode for AST checking: OpenAI
`tool_calls` as {name: json arguments}, text as `QwenFCHandler.decode_ast` reads `<tool_call>` blocks.
Nothing is evaluated: values are JSON. The verdict is `ast_checker` (the package's own), or for
relevance/irrelevance whether a non-empty call list decoded (`relevance_file_runner`'s rule).

`ast_checker` imports bfcl-eval's model registry only to look up `underscore_to_dot`; that registry
imports every vendor SDK, which the `--no-deps` install lacks, so the import is given a one-entry
registry for our label, with the Qwen setting.
"""

from __future__ import annotations

import copy
import json
import sys
import types
from typing import Any

from bfcl_eval.constants.enums import Language
from bfcl_eval.constants.type_mappings import GORILLA_TO_OPENAPI
from bfcl_eval.utils import _func_doc_language_specific_pre_processing, is_empty_output, is_function_calling_format_output
from pydantic import BaseModel, ConfigDict

from magnet_core.evaluate.bfcl_data import SingleTurnCase
from magnet_core.evaluate.replies import QWEN_TOOL_CALL_BLOCK, AssistantReply, TextCallFormat, reply_calls

JUDGE_MODEL = "magnet-eval"  # the registry name the AST checker is given


def _load_ast_checker():
    judge_registry = {JUDGE_MODEL: types.SimpleNamespace(underscore_to_dot=False)}
    try:
        from bfcl_eval.eval_checker.ast_eval import ast_checker as module
    except ImportError:
        module = None
    if module is not None:  # a full install: its registry has no entry for our label
        module.MODEL_CONFIG_MAPPING = judge_registry
        return module
    registry = types.ModuleType("bfcl_eval.constants.model_config")
    registry.MODEL_CONFIG_MAPPING = judge_registry
    saved = sys.modules.get(registry.__name__)
    sys.modules[registry.__name__] = registry
    try:
        from bfcl_eval.eval_checker.ast_eval import ast_checker as module
    finally:
        if saved is None:
            del sys.modules[registry.__name__]
        else:
            sys.modules[registry.__name__] = saved
    return module


_AST = _load_ast_checker()


class SingleTurnVerdict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    valid: bool
    error_type: str = ""
    error_message: str = ""
    decoded: str = ""


def language(case: SingleTurnCase) -> Language:
    if case.category == "simple_java":
        return Language.JAVA
    if case.category == "simple_javascript":
        return Language.JAVASCRIPT
    return Language.PYTHON


def offered_functions(case: SingleTurnCase) -> list[dict[str, Any]]:
    """The entry's function docs after BFCL's language-specific pre-processing (hints, string types)."""
    return _func_doc_language_specific_pre_processing(copy.deepcopy(list(case.functions)), case.category)


def openai_tools(case: SingleTurnCase) -> list[dict[str, Any]]:
    tools = []
    for function in offered_functions(case):
        parameters = dict(function["parameters"], type="object")
        parameters["properties"] = _openai_types(parameters.get("properties", {}))
        tools.append({"type": "function", "function": {"name": function["name"], "description": function["description"], "parameters": parameters}})
    return tools


def _openai_types(properties: dict[str, Any]) -> dict[str, Any]:
    """BFCL type names -> OpenAI schema types (`_cast_to_openai_type`'s mapping), nested ones included."""
    out = {}
    for key, value in properties.items():
        value = dict(value)
        value["type"] = GORILLA_TO_OPENAPI.get(value.get("type", "string"), "string")
        if isinstance(value.get("properties"), dict):
            value["properties"] = _openai_types(value["properties"])
        if isinstance(value.get("items"), dict):
            value["items"] = _openai_types({"item": value["items"]})["item"]
        out[key] = value
    return out


def decode_ast(reply: AssistantReply, text_format: TextCallFormat = "qwen") -> list[dict[str, Any]]:
    """BFCL's `decode_ast` for this reply: [{name: {param: value}}]; raises when the handler would."""
    if reply.tool_calls:
        decoded = []
        for call in reply.tool_calls:
            function = call.get("function", call)
            arguments = function.get("arguments", {})
            decoded.append({function["name"]: json.loads(arguments) if isinstance(arguments, str) else arguments})
        return decoded
    if text_format == "lenient":
        return [{call.name: dict(call.arguments)} for call in reply_calls(reply, "lenient")[0]]
    items = []
    for block in QWEN_TOOL_CALL_BLOCK.findall(reply.content or ""):
        try:
            items.append(json.loads(block))
        except (ValueError, RecursionError):
            continue
    if any(type(item) is not dict for item in items):
        raise ValueError("Model did not return a list of function calls")
    return [{item["name"]: {k: v for k, v in item["arguments"].items()}} for item in items]


def judge(case: SingleTurnCase, reply: AssistantReply, text_format: TextCallFormat = "qwen") -> SingleTurnVerdict:
    try:
        decoded = decode_ast(reply, text_format)
        error = ""
    except Exception as exc:  # noqa: BLE001 - any decode failure is BFCL's "failed to decode"
        decoded, error = None, f"{type(exc).__name__}: {exc}"
    shown = json.dumps(decoded, ensure_ascii=False, default=str)[:2000] if decoded is not None else ""
    if case.possible_answer is None:
        called = decoded is not None and not is_empty_output(decoded)
        if case.category == "live_relevance":
            return SingleTurnVerdict(valid=called, error_type="" if called else "relevance_error:decoder_failed", decoded=shown)
        return SingleTurnVerdict(valid=not called, error_type="irrelevance_error:decoder_success" if called else "", decoded=shown)
    if decoded is None:
        return SingleTurnVerdict(valid=False, error_type="ast_decoder:decoder_failed", error_message=error)
    if not is_function_calling_format_output(decoded):
        return SingleTurnVerdict(valid=False, error_type="ast_decoder:decoder_wrong_output_format", decoded=shown)
    result = _AST.ast_checker(list(case.functions), decoded, list(case.possible_answer), language(case), case.category, JUDGE_MODEL)
    if result["valid"]:
        return SingleTurnVerdict(valid=True, decoded=shown)
    return SingleTurnVerdict(valid=False, error_type=str(result.get("error_type", "")),
                             error_message=json.dumps(result.get("error", ""), default=str)[:2000], decoded=shown)


async def run_single_turn(case: SingleTurnCase, backend, system_prompt: str | None, text_format: TextCallFormat):
    """One request (system prompt, the entry's messages, its tools), judged; returns (verdict, episode)."""
    from magnet_core.domain.trajectory import ChatMessage
    from magnet_core.evaluate.episode import Episode, StepLog, TurnLog, Usage

    messages = [ChatMessage(role="system", content=system_prompt)] if system_prompt else []
    messages += [ChatMessage.from_openai(dict(message)) for message in case.messages]
    reply = await backend.reply(messages, openai_tools(case))
    verdict = judge(case, reply, text_format)
    shown = reply.content if not reply.tool_calls else json.dumps(list(reply.tool_calls), ensure_ascii=False)
    step = StepLog(content=shown, parse_error=verdict.error_message if verdict.error_type == "ast_decoder:decoder_failed" else None)
    episode = Episode(turns=(TurnLog(index=0, steps=(step,), end="answered"),), force_terminated=False, usage=Usage().add(reply))
    return verdict, episode
