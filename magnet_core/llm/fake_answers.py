"""How the local test server decides what to answer: `echo`, `script`, `hint` and `roles` modes.

Kept apart from the HTTP layer so the answering rules are plain functions of the request's messages.
The `hint` mode stands in for a teacher model that follows the reference calls the hint distiller put
into its prompt, which lets the whole synthesis pipeline run end-to-end against real HTTP without a
real model; the `roles` mode (`fake_roles.py`) plays every role of the method from its prompt. Reference call text is untrusted and is parsed only with `parse_calls`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from magnet_core.execution.call_parser import CallParseError, parse_calls

REFERENCE_BLOCK = re.compile(r"<reference_calls>(.*?)</reference_calls>", re.DOTALL)
AnswerMode = Literal["echo", "script", "hint", "roles"]


@dataclass(frozen=True)
class Answer:
    """One assistant message: text and/or OpenAI tool calls (arguments already JSON text)."""

    content: str | None
    tool_calls: tuple[dict[str, Any], ...] = ()
    finish_reason: str = "stop"


@dataclass(frozen=True)
class ScriptRule:
    """A regex on the last user message (`target="last_user"`) or on the whole prompt (`"prompt"`)."""

    pattern: str
    content: str | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()
    target: Literal["last_user", "prompt"] = "last_user"

    def __post_init__(self) -> None:
        if self.target not in ("last_user", "prompt"):
            raise ValueError(f"script rule target must be 'last_user' or 'prompt', got {self.target!r}")
        try:
            re.compile(self.pattern)
        except re.error as error:
            raise ValueError(f"script rule pattern {self.pattern!r} is not a valid regex: {error}") from error

    def matches(self, messages: list[dict[str, Any]]) -> bool:
        text = last_user_text(messages) if self.target == "last_user" else prompt_text(messages)
        return re.search(self.pattern, text, re.DOTALL) is not None

    def answer(self) -> Answer:
        calls = tuple(_tool_call(call.get("name", ""), call.get("arguments", {}), i) if "function" not in call else call
                      for i, call in enumerate(self.tool_calls))
        return Answer(content=self.content, tool_calls=calls, finish_reason="tool_calls" if calls else "stop")


BAD_KINDS = ("invalid_json", "unknown_function", "empty", "leak", "paraphrased_leak", "ungrounded")
LEAK_TEXT = " (As my private notes suggested.)"
PARAPHRASED_LEAK_TEXT = " (I stuck to the steps I was handed before we started.)"  # past the pattern model
GUESSED_TEXT, GUESSED_NUMBER = "guessed-value", 977_131
WRITER_ROLES = ("query_writer", "call_writer")  # the roles whose answers `ungrounded` spoils
_STATED_VALUE = re.compile(r'(with [\w ]+? )("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:e-?\d+)?|\[[^\]]*\]|\{[^}]*\})')


@dataclass(frozen=True)
class AnswerRules:
    """`bad_rate`: the share of answers replaced by a bad one of `bad_kinds` (drawn from a hash of the
    request, so the same request always gets the same answer and a re-ask, being a different request,
    gets a fresh draw). `leak` appends a reference to private notes to a closing text; `paraphrased_leak`
    one in words the pattern model does not list (what the leak judge is for); `ungrounded` (roles mode)
    makes a writer use a value the request never gave: the query writer's query loses the values it
    states, the call writer's call gets a guessed value."""

    mode: AnswerMode = "echo"
    script: tuple[ScriptRule, ...] = field(default_factory=tuple)
    bad_rate: float = 0.0
    bad_kinds: tuple[str, ...] = ("invalid_json", "unknown_function", "empty")
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.bad_rate <= 1.0:
            raise ValueError(f"bad_rate must be within [0, 1], got {self.bad_rate}")
        unknown = set(self.bad_kinds) - set(BAD_KINDS)
        if unknown or not self.bad_kinds:
            raise ValueError(f"bad_kinds must be some of {BAD_KINDS}, got {self.bad_kinds}")


def bad_answer(body: dict[str, Any], answer: Answer, rules: AnswerRules, role: str | None = None) -> tuple[str | None, Answer]:
    """(kind, answer): the answer replaced by a bad one for a `bad_rate` share of requests (`role`: the
    role the roles mode recognised; kinds that do not apply to an answer leave it as it is)."""
    if rules.bad_rate <= 0:
        return None, answer
    digest = hashlib.sha256(f"{rules.seed}:{json.dumps(body.get('messages'), sort_keys=True, default=str)}".encode())
    draw = int.from_bytes(digest.digest()[:8], "big")
    if (draw % 1_000_000) / 1_000_000 >= rules.bad_rate:
        return None, answer
    kind = rules.bad_kinds[(draw >> 32) % len(rules.bad_kinds)]
    if kind == "invalid_json":
        return kind, Answer(content='{"query": "half an answer", "calls": [unclosed')
    if kind == "unknown_function":
        return kind, Answer(content=None, finish_reason="tool_calls",
                            tool_calls=(_tool_call("function_that_does_not_exist", {"x": 1}, 0),))
    if kind == "empty":
        return kind, Answer(content="")
    if kind == "ungrounded":
        spoiled = ungrounded_answer(answer) if role in WRITER_ROLES else None
        return ("ungrounded", spoiled) if spoiled is not None else (None, answer)
    if answer.content and not answer.tool_calls and not answer.content.lstrip().startswith("{"):
        return kind, Answer(content=answer.content + (LEAK_TEXT if kind == "leak" else PARAPHRASED_LEAK_TEXT))
    return None, answer


def ungrounded_answer(answer: Answer) -> Answer | None:
    """A writer's answer with a value nobody gave: `{"query": ...}` with each stated value replaced by
    "the usual one", or the first call with its first text/number argument guessed. None: nothing to spoil."""
    if answer.content and answer.content.lstrip().startswith("{"):
        query = json.loads(answer.content).get("query", "")
        spoiled = _STATED_VALUE.sub(lambda m: m.group(1) + "the usual one", query)
        return Answer(content=json.dumps({"query": spoiled})) if spoiled != query else None
    if not answer.tool_calls:
        return None
    first = answer.tool_calls[0]["function"]
    arguments = json.loads(first["arguments"])
    for name, value in arguments.items():
        if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            arguments[name] = GUESSED_TEXT if isinstance(value, str) else GUESSED_NUMBER
            return Answer(None, (_tool_call(first["name"], arguments, 0), *answer.tool_calls[1:]), "tool_calls")
    return None


def answer_for(messages: list[dict[str, Any]], rules: AnswerRules) -> Answer:
    if rules.mode == "hint":
        return hint_answer(messages)
    if rules.mode == "script":
        for rule in rules.script:
            if rule.matches(messages):
                return rule.answer()
    return echo_answer(messages)


def echo_answer(messages: list[dict[str, Any]]) -> Answer:
    """Deterministic text: the same prompt always gets the same answer, so tests can compare runs."""
    text = last_user_text(messages)
    digest = hashlib.sha256(prompt_text(messages).encode()).hexdigest()[:12]
    return Answer(content=f"echo[{digest}]: {text[:200]}")


def hint_answer(messages: list[dict[str, Any]]) -> Answer:
    """Answer with the next reference call not yet made in this turn, one call per step.

    The turn starts after the last user message; calls already made are counted from the assistant
    messages after it. With every call made, a short summary closes the turn; an empty block (`[]`)
    means the turn is missing a function or parameter, so the answer asks the user for it.
    """
    blocks = REFERENCE_BLOCK.findall(prompt_text(messages))
    if not blocks:
        return Answer(content="I could not find any reference calls to follow.")
    try:
        calls = parse_calls(blocks[-1])
    except CallParseError as error:
        return Answer(content=f"The reference calls could not be read ({error}).")
    if not calls:
        return Answer(content="I cannot do that yet: which function or parameter value should I use?")
    made = calls_made_this_turn(messages)
    if made >= len(calls):
        names = ", ".join(call.name for call in calls)
        return Answer(content=f"Done: I ran {names} and reported the results above.")
    call = calls[made]
    return Answer(content=None, tool_calls=(_tool_call(call.name, call.arguments, made),), finish_reason="tool_calls")


def calls_made_this_turn(messages: list[dict[str, Any]]) -> int:
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return sum(len(m.get("tool_calls") or ()) for m in messages[last_user + 1:] if m.get("role") == "assistant")


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def prompt_text(messages: list[dict[str, Any]]) -> str:
    return "\n".join(content_text(m.get("content")) for m in messages)


def content_text(content: Any) -> str:
    """Message content may be a string or a list of OpenAI content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _tool_call(name: str, arguments: dict[str, Any], index: int) -> dict[str, Any]:
    return {"id": f"call_{index}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}
