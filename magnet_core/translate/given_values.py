"""Values a conversation has already given: every scalar of an earlier tool output and every user text.

A miss_param turn teaches the model to ask for a value it cannot know. If an earlier tool output
(`add` returned 50.0) or an earlier user message ("the file report.txt") already holds that value, the
right answer is to reuse it, not to ask: such a value must never be the one a miss_param turn leaves out.
Matching is deliberately generous (a number anywhere in a user's text counts as given): a false "given"
only moves the omission to another parameter, a missed one teaches the wrong thing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from magnet_core.domain.plans import TurnLabel

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")


@dataclass
class GivenValues:
    strings: set[str] = field(default_factory=set)  # lower-cased string leaves of tool outputs
    numbers: list[float] = field(default_factory=list)  # numeric leaves and numbers written in any text
    texts: list[str] = field(default_factory=list)  # lower-cased user texts and raw tool output texts

    def add_output(self, value: Any, depth: int = 0) -> None:
        if depth > 8:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                self.strings.add(str(key).strip().lower())  # directory listings key files by name
                self.add_output(item, depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                self.add_output(item, depth + 1)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, (int, float)):
            self.numbers.append(float(value))
        else:
            text = str(value).strip().lower()
            self.strings.add(text)
            self.add_text(text)

    def add_text(self, text: str) -> None:
        lowered = text.lower()
        self.texts.append(lowered)
        self.numbers.extend(float(number) for number in _NUMBER.findall(lowered))


def given_in(messages: Iterable[dict[str, Any]]) -> GivenValues:
    """What user messages and tool outputs of an OpenAI-style history have shown (assistant text is not the
    user's word, and the assistant's own call arguments came from the user's text or an output anyway)."""
    given = GivenValues()
    for message in messages:
        content = message.get("content")
        if not isinstance(content, str):
            continue
        if message.get("role") == "user":
            given.add_text(content)
        elif message.get("role") == "tool":
            given.add_text(content)
            try:
                given.add_output(json.loads(content))
            except ValueError:
                given.add_output(content)
    return given


def is_given(value: Any, given: GivenValues) -> bool:
    """Whether `value` (an argument value) was already shown: a string equal to an output's string or
    written as a whole word in a user or tool text, a number equal to any number shown, a list whose every
    item was shown. Booleans and empty values carry no information of their own and are never "given"."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return any(math.isclose(float(value), shown, rel_tol=1e-9, abs_tol=1e-12) for shown in given.numbers)
    if isinstance(value, (list, tuple)):
        return bool(value) and all(is_given(item, given) for item in value)
    if isinstance(value, dict):
        return bool(value) and all(is_given(item, given) for item in value.values())
    text = str(value).strip().lower()
    if not text:
        return False
    if text in given.strings:
        return True
    if _is_number(text) and is_given(float(text), given):
        return True
    pattern = re.compile(r"(?<![\w])" + re.escape(text) + r"(?![\w])")
    return any(pattern.search(shown) for shown in given.texts)


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def turn_messages(turns: Iterable[Any]) -> list[dict[str, Any]]:
    """The user and tool messages of translated `Turn`s (what `given_in` reads)."""
    messages: list[dict[str, Any]] = []
    for turn in turns:
        messages.append({"role": "user", "content": turn.query})
        messages += [{"role": "tool", "content": result.output_text()} for result in turn.results]
    return messages


def reused_withheld_values(turns: tuple[Any, ...], function_names: dict[str, str]) -> list[str]:
    """Each miss_param turn whose left-out value an earlier turn already gave, described. The left-out value
    is the one the following turn passes when it does the ask; `function_names` maps qualified -> call name."""
    found = []
    for index, turn in enumerate(turns):
        if turn.label is not TurnLabel.MISS_PARAM or index + 1 >= len(turns):
            continue
        name = function_names[turn.withheld_function]
        calls = [call for call in turns[index + 1].reference_calls if call.name == name]
        if not calls or turn.withheld_param not in calls[0].arguments:
            continue
        value = calls[0].arguments[turn.withheld_param]
        if is_given(value, given_in(turn_messages(turns[:index]))):
            found.append(f"turn {index}: {name}({turn.withheld_param}={value!r}) was already given")
    return found
