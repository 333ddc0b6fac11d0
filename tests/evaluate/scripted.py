"""Scripted stand-ins for a model, served by the project's fake OpenAI server in `script` mode.

Each rule matches the whole prompt text ending with one turn's user message (anchored on the case's
first message, so cases do not collide) and answers with that turn's calls in one step. After the
calls the prompt ends with tool output, no rule matches, and the server's default text reply ends the
turn, as a model that summarises would. The ground truth comes from the evaluation package itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from bfcl_eval.constants.default_prompts import DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC

from magnet_core.domain.calls import FunctionCall
from magnet_core.evaluate.bfcl_data import EvalCase
from magnet_core.evaluate.config import EvalConfig
from magnet_core.evaluate.ground_truth import parse_ground_truth_turns
from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
from magnet_core.llm.types import ModelConfig

SAMPLE = 3
SEED = 0
TurnCalls = Callable[[list[list[FunctionCall]], int], list[FunctionCall]]


def oracle(truth: list[list[FunctionCall]], turn: int) -> list[FunctionCall]:
    return truth[turn]


def drop_last_call(truth: list[list[FunctionCall]], turn: int) -> list[FunctionCall]:
    return truth[turn][:-1]


def calls_when_it_should_ask(truth: list[list[FunctionCall]], turn: int) -> list[FunctionCall]:
    """On a turn whose right answer is a question, guess: make the next turn's first call now."""
    if truth[turn]:
        return truth[turn]
    later = [calls for calls in truth[turn + 1:] if calls]
    return later[0][:1] if later else []


def turn_texts(case: EvalCase) -> list[str]:
    texts = []
    for index, messages in enumerate(case.turns):
        if index in case.missed_function:
            texts.append(DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC)
        else:
            texts.append("\n".join(m["content"] for m in messages))
    return texts


def script_rules(cases: list[EvalCase], specs_by_name: dict, policy: TurnCalls) -> AnswerRules:
    rules: dict[str, tuple] = {}
    for case in cases:
        truth = parse_ground_truth_turns(case.ground_truth, specs_by_name)
        texts = turn_texts(case)
        for turn, text in enumerate(texts):
            calls = policy(truth, turn)
            if not calls:
                continue
            head = re.escape(texts[0])
            pattern = head + r"\Z" if turn == 0 else head + r".*" + re.escape(text) + r"\Z"
            answer = tuple({"name": call.name, "arguments": dict(call.arguments)} for call in calls)
            if rules.get(pattern, answer) != answer:
                raise ValueError(f"{case.case_id} turn {turn}: two cases script the same prompt differently")
            rules[pattern] = answer
    return AnswerRules(
        mode="script",
        script=tuple(ScriptRule(pattern=p, tool_calls=calls, target="prompt") for p, calls in rules.items()),
    )


def eval_config(output_dir: Path, model: ModelConfig, **overrides) -> EvalConfig:
    values = dict(output_dir=output_dir, sample_size=SAMPLE, seed=SEED, model=model, concurrency=4)
    values.update(overrides)
    return EvalConfig(**values)


def first_turn(case: EvalCase, asking: bool) -> int:
    """The first turn whose ground truth is empty (`asking`) or not."""
    return next(i for i, calls in enumerate(case.ground_truth) if (not calls) == asking)
