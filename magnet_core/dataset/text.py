"""Normal forms shared by dedup and decontamination, so that both compare samples the same way.

Queries are compared on lower-cased word tokens (punctuation and spacing do not make a sample new);
calls on their name plus canonical JSON arguments (key order, tuples vs lists and 5 vs 5.0 do not
make a call different).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any, Iterable

from magnet_core.domain import ChatMessage, FunctionCall, PreferencePair, Trajectory

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def normalized_text(text: str) -> str:
    return " ".join(words(text))


def ngrams(tokens: list[str], size: int) -> list[str]:
    """Word n-grams; a text shorter than `size` is one gram, so short questions still match exactly."""
    if not tokens:
        return []
    if len(tokens) < size:
        return [" ".join(tokens)]
    return [" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]


def stable_hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def user_texts(messages: Iterable[ChatMessage]) -> list[str]:
    return [m.content for m in messages if m.role == "user" and m.content]


def sample_user_texts(sample: Trajectory | PreferencePair) -> list[str]:
    if isinstance(sample, Trajectory):
        return user_texts(sample.messages)
    return user_texts(sample.prompt) + user_texts(sample.chosen)


def sample_id(sample: Trajectory | PreferencePair) -> str:
    return sample.trajectory_id if isinstance(sample, Trajectory) else sample.pair_id


def canonical_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [canonical_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): canonical_value(item) for key, item in value.items()}
    return str(value)


def canonical_call(call: FunctionCall) -> str:
    """`name(json)` with the bare method name: BFCL ground truth never carries the tool-class prefix."""
    name = call.name.rsplit(".", 1)[-1] if "." in call.name and call.name.split(".", 1)[0][:1].isupper() else call.name
    return name + json.dumps(canonical_value(call.arguments), sort_keys=True, ensure_ascii=False)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def turn_calls(messages: Iterable[ChatMessage]) -> list[list[FunctionCall]]:
    """Calls grouped by user turn: everything the assistant called between two user messages."""
    turns: list[list[FunctionCall]] = []
    for message in messages:
        if message.role == "user":
            turns.append([])
        elif message.role == "assistant" and message.tool_calls:
            if not turns:
                turns.append([])
            turns[-1].extend(call.function for call in message.tool_calls)
    return turns
