"""The test server's `roles` mode: a scripted, well-behaved teacher that plays every role of the method.

It recognises the role from the versioned prompt the request carries (each role prompt's first line;
the student is the plain assistant system prompt without guidance) and answers what that role must
answer: JSON objects, tool calls to offered functions only, one call per step. It is a rule-based
stand-in for a model, never part of the factory:

- query writer: states the calls' values in a templated request and *remembers* query -> calls, the way
  a model would understand its own words; the call writer then reads the calls back from that memory,
  one per step (counting the calls already made after the query); the same two roles write the
  single-turn samples (one call, several argument sets of one function, or an irrelevance request for a
  function that is not offered);
- teacher / negative sampler: follow the `<reference_calls>` guidance (all at once when asked to);
- student: answers from the same memory with a deterministic share of mistakes (skips a call, refuses);
- error judge: compares the listed correct and actual calls; simulator: fills the response schema;
- leak judge: flags the first assistant text with a word of having been given guidance (`LEAK_CUES`);
  category labeller and dependency judge: keyword and field-name rules.
Reference call text is untrusted: parsed only with `parse_calls`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any

from magnet_core.execution.call_parser import CallParseError, parse_calls
from magnet_core.llm.fake_answers import (
    REFERENCE_BLOCK,
    Answer,
    _tool_call,
    content_text,
    hint_answer,
    prompt_text,
)
from magnet_core.prompts import load_prompt
from magnet_core.roles.llm_role import REASK_PREFIX
PROMPT_ROLES = ("query_writer", "call_writer", "error_judge", "simulator", "category_labeller", "dependency_judge",
                "leak_judge")
# What the stand-in leak judge reads as "I was given guidance": wider than the pattern model on purpose,
# so a paraphrase that model misses (`PARAPHRASED_LEAK_TEXT`) is caught here, as a model would catch it.
LEAK_CUES = re.compile(r"\b(?:notes|hints?|guidance|instructions|briefed|(?:was|been) (?:handed|told|given)|"
                       r"ahead of time|beforehand|before we started|cheat sheet|script)\b", re.IGNORECASE)
_CALLS = re.compile(r"<calls>(.*?)</calls>", re.DOTALL)
_JSON_LINE = re.compile(r"^(?:Functions \(JSON\)|Function \(JSON\)|Response schema): (.*)$", re.MULTILINE)


class RoleMemory:
    """query text -> the calls the query writer was asked to describe, with the conversation it was shown
    (shared by all requests), and every query text it wrote (what a test compares stored user messages with).

    Scenarios can word a query alike ("using the id from before"); the conversation tells them apart, as it
    tells a model which id is meant. A reader sees the whole conversation, the writer only its tail, so a
    memory matches when what the writer saw ends the reader's conversation; of several, the longest match
    wins, then the smallest calls, never the latest write, so the answer does not depend on arrival order."""

    def __init__(self) -> None:
        self._queries: dict[str, dict[tuple[str, ...], list[dict[str, Any]]]] = {}
        self._written: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, query: str, shown: list[dict[str, Any]], calls: list[dict[str, Any]]) -> None:
        with self._lock:
            seen = self._queries.setdefault(query.strip(), {})
            context = _context(shown)
            if context not in seen or _order(calls) < _order(seen[context]):
                seen[context] = calls
            self._written.add(query)

    def written_queries(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._written)

    def recall(self, query: str, conversation: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        context = _context(conversation)
        with self._lock:
            seen = dict(self._queries.get(query.strip(), {}))
        matches = [(len(shown), calls) for shown, calls in seen.items() if not shown or context[-len(shown):] == shown]
        if not matches:
            return None
        longest = max(length for length, _ in matches)
        return min((calls for length, calls in matches if length == longest), key=_order)


def _context(messages: list[dict[str, Any]]) -> tuple[str, ...]:
    """What identifies a conversation across roles: its user texts and tool outputs in order (assistant
    messages differ between the translate history and the distilled conversation, and call ids always do)."""
    return tuple(f"{m.get('role')}\x00{content_text(m.get('content'))}" for m in messages
                 if m.get("role") in ("user", "tool"))


def _order(calls: list[dict[str, Any]]) -> str:
    return json.dumps(calls, sort_keys=True, ensure_ascii=False)


def _history_shown(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation the query writer was shown (JSON after "Conversation so far")."""
    text = content_text(messages[-1].get("content")) if messages else ""
    match = re.search(r"Conversation so far \(JSON messages\):\n(.*)\nWrite the next user message", text, re.DOTALL)
    try:
        return json.loads(match.group(1)) if match else []
    except json.JSONDecodeError:
        return []


def recognise_role(messages: list[dict[str, Any]]) -> str:
    """Which role a request plays, from the prompt text it carries."""
    text = prompt_text(messages)
    if REFERENCE_BLOCK.search(text):
        return "teacher"  # teacher and negative sampler answer alike: follow the guidance
    for role in PROMPT_ROLES:
        if _first_line(role) in text:
            return role
    if _first_line("assistant_system") in text:
        return "student"
    return "unknown"


def _first_line(role: str) -> str:
    return load_prompt(role).text.strip().splitlines()[0].strip()


def role_answer(body: dict[str, Any], messages: list[dict[str, Any]], memory: RoleMemory) -> tuple[str, Answer]:
    role = recognise_role(messages)
    offered = {tool.get("function", {}).get("name") for tool in body.get("tools") or ()}
    if role == "teacher":
        return role, _teacher(messages, offered)
    handler = {"query_writer": _query_writer, "call_writer": _call_writer, "student": _student,
               "error_judge": _error_judge, "simulator": _simulator, "category_labeller": _labeller,
               "dependency_judge": _dependency_judge, "leak_judge": _leak_judge}.get(role)
    if handler is None:
        return role, Answer(content="I am not sure what is being asked.")
    return role, handler(messages, offered, memory)


def _teacher(messages: list[dict[str, Any]], offered: set[str]) -> Answer:
    messages = without_feedback(messages)
    text = prompt_text(messages)
    answer = hint_answer(messages)
    if "make all of them together in one message" in text and answer.tool_calls:
        calls = parse_calls(REFERENCE_BLOCK.findall(text)[-1])
        if _made(_real_turn(messages)) == 0:
            answer = Answer(None, tuple(_tool_call(c.name, c.arguments, i) for i, c in enumerate(calls)), "tool_calls")
    if any(call["function"]["name"] not in offered for call in answer.tool_calls):
        return Answer(content="None of the functions I have can do that, so I can't take this step.")
    return answer


def _query_writer(messages, offered, memory: RoleMemory) -> Answer:
    system = content_text(messages[0].get("content"))
    calls = parse_calls(_CALLS.search(system).group(1))
    docs = {doc["name"]: doc for doc in _json_after(system, "Functions (JSON)") or []}
    implicit = set(re.findall(r"(\w+): (\w+)=", system.split("Values from earlier outputs", 1)[-1]))
    names = set(docs)
    asks = []
    for call in calls:
        ask = _scrub(_ask(docs.get(call.name, {})), names)
        clauses = [f"using the {param.replace('_', ' ')} from before" if (call.name, param) in implicit
                   else f"with {param.replace('_', ' ')} {json.dumps(value, ensure_ascii=False)}"
                   for param, value in call.arguments.items()]
        asks.append(ask + (" " + ", ".join(clauses) if clauses else ""))
    query = "Please " + "; then ".join(asks) + "."
    memory.remember(query, _history_shown(without_feedback(messages)),
                    [{"name": c.name, "arguments": c.arguments} for c in calls])
    return Answer(content=json.dumps({"query": query}, ensure_ascii=False))


def _ask(doc: dict[str, Any]) -> str:
    text = (doc.get("description") or "").strip()
    text = text.split("Tool description:", 1)[-1].strip() if "Tool description:" in text else text
    sentence = re.split(r"(?<=[a-z])\.\s", text or "do the task")[0].rstrip(".")
    return (sentence[:1].lower() + sentence[1:]) or "do the task"


def _scrub(text: str, names: set[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "it", text)
    return text


def _recall(messages: list[dict[str, Any]], memory: RoleMemory) -> tuple[list[dict[str, Any]], str, list[dict[str, Any]] | None]:
    """(this turn's messages, its query, the calls remembered for it in this conversation)."""
    kept = without_feedback(messages)
    users = [i for i, m in enumerate(kept) if m.get("role") == "user"]
    if not users:
        return [], "", None
    query = content_text(kept[users[-1]].get("content"))
    return kept[users[-1]:], query, memory.recall(query, kept[: users[-1]])


def _call_writer(messages, offered, memory: RoleMemory) -> Answer:
    turn, _, calls = _recall(messages, memory)
    made = _made(turn)
    if not calls or made >= len(calls) or calls[made]["name"] not in offered:
        return Answer(content="DONE")
    call = calls[made]
    return Answer(None, (_tool_call(call["name"], call["arguments"], made),), "tool_calls")


def _student(messages, offered, memory: RoleMemory) -> Answer:
    """Follows the remembered calls with mistakes: a third right, a third skipping the last call, a third
    refusing (by the query's hash), so the error judge has something to find."""
    turn, query, remembered = _recall(messages, memory)
    calls = [c for c in (remembered or []) if c["name"] in offered]
    style = int(hashlib.sha256(query.encode()).hexdigest(), 16) % 3
    if style == 1 and len(calls) >= 2:
        calls = calls[:-1]
    elif style in (1, 2):
        calls = []
    made = _made(turn)
    if made < len(calls):
        return Answer(None, (_tool_call(calls[made]["name"], calls[made]["arguments"], made),), "tool_calls")
    if not calls:
        return Answer(content="I don't think the tools I have can do that for you.")
    return Answer(content="Done: " + ", ".join(c["name"] for c in calls) + " ran and the outputs are shown above.")


def _error_judge(messages, offered, memory) -> Answer:
    text = prompt_text(messages)
    reference = _calls_on_line(text, "Correct calls for this turn:")
    candidate = _calls_on_line(text, "Assistant's calls for this turn:")
    if reference == candidate:
        verdict = (0, "the calls match")
    elif not candidate or not reference:
        verdict = (5, "called where it should ask, or refused where it could act")
    elif len(candidate) < len(reference):
        verdict = (1, "a needed call is missing")
    else:
        verdict = (3, "a value differs from what the conversation established")
    return Answer(content=json.dumps({"error_type": verdict[0], "reason": verdict[1]}))


def _calls_on_line(text: str, label: str) -> list[tuple[str, str]]:
    match = re.search(rf"^{re.escape(label)} (.*)$", text, re.MULTILINE)
    try:
        return [(c.name, json.dumps(c.arguments, sort_keys=True)) for c in parse_calls(match.group(1))] if match else []
    except CallParseError:
        return []


def _leak_judge(messages, offered, memory) -> Answer:
    shown = re.search(r"^(\[.*\])$", prompt_text(without_feedback(messages)), re.MULTILINE)
    for item in json.loads(shown.group(1)) if shown else []:
        found = LEAK_CUES.search(item["text"])
        if found:
            return Answer(content=json.dumps({"leak": True, "message": item["position"], "quote": found.group(0),
                                              "reason": "the assistant says it was given what to do"}))
    return Answer(content=json.dumps({"leak": False, "message": None, "quote": "", "reason": "no reference to guidance"}))


def _simulator(messages, offered, memory) -> Answer:
    schema = _json_after(prompt_text(messages), "Response schema") or {}
    return Answer(content=json.dumps(_fill(schema, "result")))


def _fill(schema: dict[str, Any], name: str) -> Any:
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {key: _fill(sub, key) for key, sub in (schema.get("properties") or {"status": {"type": "string"}}).items()}
    return {"string": f"sim-{name}", "integer": 1, "number": 1.5, "boolean": True, "array": []}.get(kind, f"sim-{name}")


def _labeller(messages, offered, memory) -> Answer:
    text = prompt_text(messages)
    categories = [c.strip() for c in re.search(r"Known categories: (.*)", text).group(1).split(",") if c.strip()]
    function = json.dumps(_json_after(text, "Function (JSON)") or {}).lower()
    category = next((c for c in categories if any(word in function for word in c.lower().split("_"))), "other")
    tool_class = "".join(part.title() for part in re.split(r"[_\W]+", category) if part) + "Tools"
    return Answer(content=json.dumps({"category": category, "tool_class": tool_class}))


def _dependency_judge(messages, offered, memory) -> Answer:
    """A value dependency wherever a result field of the source is named like a candidate's parameter."""
    body = json.loads(content_text(messages[-1].get("content")))
    fields = set(((body["source"].get("result") or {}).get("properties") or {}))
    found = []
    for candidate in body["candidates"]:
        params = set((candidate.get("parameters") or {}).get("properties") or {})
        feeds = [{"output_field": f, "parameter": f} for f in sorted(fields & params)]
        if feeds and candidate["name"] != body["source"]["name"]:
            found.append({"target": candidate["name"], "kind": "value", "feeds": feeds, "confidence": 0.8,
                          "reason": "a result field feeds a parameter of the same name"})
    return Answer(content=json.dumps({"dependencies": found}))


def _json_after(text: str, label: str) -> Any:
    for match in _JSON_LINE.finditer(text):
        if match.group(0).startswith(label):
            try:
                return json.loads(match.group(1))
            except json.JSONDecodeError:
                return None
    return None


def without_feedback(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation without re-ask feedback: each feedback user message and the echoed answer before it."""
    kept: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") == "user" and content_text(message.get("content")).startswith(REASK_PREFIX):
            if kept and kept[-1].get("role") == "assistant":
                kept.pop()
            continue
        kept.append(message)
    return kept


def _real_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """This turn's messages: from the last real user message on."""
    kept = without_feedback(messages)
    users = [i for i, m in enumerate(kept) if m.get("role") == "user"]
    return kept[users[-1]:] if users else []


def _made(turn: list[dict[str, Any]]) -> int:
    return sum(len(m.get("tool_calls") or ()) for m in turn if m.get("role") == "assistant")
