"""The user's announcement that a withheld function is now available (BFCL's prompting mode for miss_func).

BFCL puts the newly added function's docs into the next user message and asks the model to go on; a
stored sample has a single `tools` list, so this is how a function withheld in one turn can be used in the
next. The text is our own words, seeded; the schema is the function's OpenAI tool JSON, embedded verbatim
so that verification can read back which functions a user message makes available.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from magnet_core.domain.functions import FunctionSpec

ANNOUNCE_TEXT = (
    "I've added a function you can use now: {schema}. Can you do what I asked?",
    "Here is one more function you can call: {schema}. Please go ahead with my earlier request.",
    "You now have access to this function: {schema}. Could you take care of what I asked before?",
    "I just made a new function available to you: {schema}. Can you finish my last request with it?",
)
_TOOL_START = re.compile(r'\{\s*"type"\s*:\s*"function"')


def announcement_text(specs: list[FunctionSpec], rng: random.Random) -> str:
    schema = ", ".join(json.dumps(spec.to_openai_tool(), ensure_ascii=False) for spec in specs)
    return rng.choice(ANNOUNCE_TEXT).format(schema=schema)


def announced_tools(text: str | None) -> list[tuple[int, int, dict[str, Any]]]:
    """(start, end, tool) for every OpenAI tool object embedded in a message's text, in order."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    decoder = json.JSONDecoder()
    position = 0
    for match in _TOOL_START.finditer(text or ""):
        if match.start() < position:
            continue
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        function = value.get("function") if isinstance(value, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            found.append((match.start(), end, value))
            position = end
    return found
