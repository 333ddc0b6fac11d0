"""Leak judge: a model reads stored assistant text for references to the private guidance, in any wording.

The phrase and n-gram models (`verify/leaks.py`) catch the wordings that can be listed; a paraphrase ("I
stuck to the steps I was handed before we started") slips past them. This optional role reads every
assistant message of a sample that passed all other checks, once, and answers
`{"leak": bool, "message": n | null, "quote": str, "reason": str}`. The verdict is parsed strictly (a leak
must name one of the listed messages and quote words that are in it, so an invented quote is refused)
and an unusable answer is re-asked like every role's. Opt-in (`OPT_IN_ROLES`): it costs a call per sample.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from magnet_core.domain.trajectory import ChatMessage
from magnet_core.llm.types import LLMRequest, LLMResponse, ModelConfig
from magnet_core.prompts import load_prompt
from magnet_core.roles.llm_role import LLMClientLike, build_request, complete_parsed, parse_json_object

ROLE = "leak_judge"


@dataclass(frozen=True)
class LeakVerdict:
    leak: bool
    message: int | None
    quote: str
    reason: str

    def detail(self, model: str) -> str:
        """The verdict as a reject's detail: who judged, which message, the words and why."""
        return f"leak judge {model}: message {self.message}: {self.quote!r}: {self.reason}"


def assistant_texts(messages: Sequence[ChatMessage]) -> dict[int, str]:
    """Position -> text of every assistant message that says something (tool calls alone say nothing)."""
    return {i: m.content for i, m in enumerate(messages) if m.role == "assistant" and (m.content or "").strip()}


def leak_judge_request(texts: dict[int, str], sample_index: int = 0) -> LLMRequest:
    shown = json.dumps([{"position": i, "text": text} for i, text in texts.items()], ensure_ascii=False)
    prompt = load_prompt(ROLE).render(messages=shown)
    return build_request(ROLE, "distill", [{"role": "user", "content": prompt}], (), {"temperature": 0.0}, sample_index)


def verdict_parser(texts: dict[int, str]):
    """A parser bound to the texts the judge was shown (a leak must point into them)."""

    def parse(response: LLMResponse) -> LeakVerdict:
        value = parse_json_object(response.content, "leak judge")
        leak, reason = value.get("leak"), value.get("reason")
        if not isinstance(leak, bool):
            raise ValueError(f"leak judge: 'leak' must be true or false, got {leak!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("leak judge: 'reason' must be a non-empty string")
        if not leak:
            return LeakVerdict(False, None, "", reason.strip())
        message, quote = value.get("message"), value.get("quote")
        if isinstance(message, bool) or message not in texts:
            raise ValueError(f"leak judge: 'message' must be one of the positions {sorted(texts)}, got {message!r}")
        if not isinstance(quote, str) or not quote.strip() or quote.strip().lower() not in texts[message].lower():
            raise ValueError(f"leak judge: 'quote' must copy words of message {message}, got {quote!r}")
        return LeakVerdict(True, message, quote.strip(), reason.strip())

    return parse


async def judge_leaks(messages: Sequence[ChatMessage], client: LLMClientLike, model: ModelConfig,
                      max_reasks: int) -> tuple[LeakVerdict | None, float]:
    """(verdict, cost of every attempt); (None, 0.0) when no assistant message has text to judge.
    `ReaskExhausted` when every answer was unusable; LLM client errors propagate."""
    texts = assistant_texts(messages)
    if not texts:
        return None, 0.0
    return await complete_parsed(client, model, leak_judge_request(texts), verdict_parser(texts), max_reasks,
                                 "leak judge")
