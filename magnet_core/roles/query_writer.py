"""Query writer (back-translation): a turn's functions -> what a user would say, never naming functions.

Offline, queries are templated from the functions' descriptions and the values the call writer chose;
values that came from earlier outputs are referred to, not repeated ("the one from before"), which is the
implicit reference the method asks for. A miss_param query leaves the withheld value out. With a model,
the writer is shown the starting state, the conversation and the calls the turn will make, and answers
a JSON object `{"query": ...}`, checked for function identifiers and for every value it must state.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from magnet_core.domain.calls import FunctionCall, calls_to_bfcl
from magnet_core.domain.functions import FunctionSpec
from magnet_core.llm.types import LLMResponse
from magnet_core.prompts import load_prompt
from magnet_core.roles.call_writer import WrittenCall
from magnet_core.roles.llm_role import build_request, parse_json_object
from magnet_core.roles.text import as_request, identifier_tokens, param_phrase, render_value

ROLE = "query_writer"
STATE_CHARS = 6000
OPENERS = ("Could you {ask}?", "Please {ask}.", "I need you to {ask}.", "Can you {ask} for me?", "I'd like you to {ask}.",
           "Hey, {ask}, please.", "Would you {ask}?")
JOINERS = (", and then ", "; after that, ", ", then ", " and also ")
EXPLICIT = ("with the {phrase} set to {value}", "using {value} as the {phrase}", "({phrase}: {value})",
            "where the {phrase} is {value}")
IMPLICIT = ("using the {name} from the earlier result", "with the {name} you just got", "based on the {name} from before",
            "reusing the {name} we already have")


def write_query_offline(steps: list[tuple[FunctionSpec, WrittenCall]], rng: random.Random,
                        omit_param: str | None = None) -> str:
    asks = [_ask(spec, written, rng, omit_param) for spec, written in steps]
    text = asks[0]
    for ask in asks[1:]:
        text += rng.choice(JOINERS) + ask
    return _sentence(rng.choice(OPENERS).format(ask=text))


def _ask(spec: FunctionSpec, written: WrittenCall, rng: random.Random, omit_param: str | None) -> str:
    clauses: list[str] = []
    for name, value in written.call.arguments.items():
        if name == omit_param:
            continue
        if written.sources.get(name) == "output":
            clauses.append(rng.choice(IMPLICIT).format(name=_short_name(spec, name)))
        else:
            clauses.append(rng.choice(EXPLICIT).format(phrase=param_phrase(spec, name), value=render_value(value)))
    ask = as_request(spec)
    if clauses:
        ask += " " + (clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1])
    return ask


def _short_name(spec: FunctionSpec, param: str) -> str:
    phrase = param_phrase(spec, param)
    return phrase if len(phrase.split()) <= 4 else " ".join(phrase.split()[:4])


def _sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text[0].upper() + text[1:] if text else text


def query_writer_request(specs: list[FunctionSpec], drafts: list[WrittenCall], history: list[dict[str, Any]],
                         omit_param: str | None, initial_state: dict[str, Any], sample_index: int = 0,
                         stage: str = "translate"):
    """The writer sees what the user knows: the starting state, the conversation, and the calls to ask for
    (the values they need; values an earlier output supplied are listed to be referred to, not repeated)."""
    prompt = load_prompt(ROLE)
    docs = [spec.to_openai_tool()["function"] for spec in specs]
    calls = [FunctionCall(name=d.call.name, arguments={k: v for k, v in d.call.arguments.items() if k != omit_param})
             for d in drafts]
    implicit = [f"{d.call.name}: {name}={d.call.arguments[name]!r}" for d in drafts
                for name, source in d.sources.items() if source == "output" and name in d.call.arguments]
    system = prompt.render(functions=json.dumps(docs, ensure_ascii=False), calls=calls_to_bfcl(calls),
                           implicit="; ".join(implicit) or "none",
                           omit=f"Leave out any value for the parameter '{omit_param}': the user forgot it."
                           if omit_param else "Leave nothing out.")
    state = json.dumps(initial_state, ensure_ascii=False, default=str, sort_keys=True)
    context = json.dumps(history[-8:], ensure_ascii=False, default=str)
    user = (f"Starting state the user knows (JSON):\n{state[:STATE_CHARS]}\n"
            f"Conversation so far (JSON messages):\n{context}\nWrite the next user message.")
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return build_request(ROLE, stage, messages, (), {"temperature": 0.7}, sample_index)


def parse_query(response: LLMResponse, function_names: set[str], required_values: tuple[str, ...] = ()) -> str:
    """`{"query": "..."}`; a query that names an offered function identifier, or leaves out a value the
    calls need (`required_values`, text values the writer was asked to state), is refused."""
    value = parse_json_object(response.content, "query writer")
    query = value.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("query writer: 'query' must be a non-empty string")
    named = sorted(name for name in function_names if re.search(rf"\b{re.escape(name)}\b", query)
                   and (name in identifier_tokens(name) or "_" in name))
    if named:
        raise ValueError(f"query writer named function identifiers {named}")
    missing = [text for text in required_values if text.lower() not in query.lower()]
    if missing:
        raise ValueError(f"query writer: the message must state the values {missing}")
    return query.strip()


def stated_values(drafts: list[WrittenCall], omit_param: str | None) -> tuple[str, ...]:
    """Text values the query must carry: every string argument not supplied by an earlier output."""
    return tuple(dict.fromkeys(value for d in drafts for name, value in d.call.arguments.items()
                               if isinstance(value, str) and len(value) > 1 and name != omit_param
                               and d.sources.get(name) != "output"))
