"""Error judge: labels one assistant turn with the method's five error types (0 = no error).

Offline, the judge compares the turn's calls with the reference calls: a missing call, a changed value
that an earlier output of the same turn supplied, a changed value from an earlier turn, a closing text
that misstates an output, or a call made where the right answer was to ask. With a model, it answers
`{"error_type": n, "reason": ...}`, parsed strictly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from magnet_core.domain.calls import FunctionCall, calls_to_bfcl
from magnet_core.domain.plans import TurnLabel
from magnet_core.llm.types import LLMResponse
from magnet_core.prompts import load_prompt
from magnet_core.roles.llm_role import build_request, parse_json_object
from magnet_core.roles.values import leaves

ROLE = "error_judge"
ERROR_TYPES: dict[int, str] = {
    1: "missing_nested_call",
    2: "misused_same_turn_output",
    3: "forgotten_long_dependency",
    4: "wrong_summary",
    5: "missing_info_misjudged",
}


@dataclass(frozen=True)
class Verdict:
    error_type: int
    reason: str

    @property
    def name(self) -> str:
        return ERROR_TYPES.get(self.error_type, "no_error")


def judge_offline(label: TurnLabel, reference: list[FunctionCall], candidate: list[FunctionCall],
                  same_turn_outputs: list[Any], earlier_outputs: list[Any], summary_ok: bool = True) -> Verdict:
    if label is not TurnLabel.NORMAL:
        if candidate:
            return Verdict(5, f"called {[c.name for c in candidate]} although the turn lacks a function or value")
        return Verdict(0, "asked instead of calling")
    if not candidate and reference:
        return Verdict(5, "refused although the offered functions could serve the request")
    if len(candidate) < len(reference):
        missing = [c.name for c in reference if c not in candidate]
        return Verdict(1, f"skipped the needed call(s) {missing}")
    same_turn = {repr(v) for output in same_turn_outputs for _, v in leaves(output)}
    earlier = {repr(v) for output in earlier_outputs for _, v in leaves(output)}
    for expected, made in zip(reference, candidate):
        for key, value in expected.arguments.items():
            if made.arguments.get(key) != value:
                if repr(value) in same_turn:
                    return Verdict(2, f"{made.name}.{key} ignores the value an earlier call of this turn returned")
                if repr(value) in earlier:
                    return Verdict(3, f"{made.name}.{key} forgets the value an earlier turn produced")
                return Verdict(3, f"{made.name}.{key} differs from the value the conversation established")
    if candidate != reference:
        return Verdict(1, "the calls differ from what the request needs")
    if not summary_ok:
        return Verdict(4, "the closing text misstates an output")
    return Verdict(0, "matches the reference")


def judge_request(reference: list[FunctionCall], candidate: list[FunctionCall], summary: str, sample_index: int = 0):
    text = load_prompt(ROLE).render(reference=calls_to_bfcl(reference), candidate=calls_to_bfcl(candidate),
                                    summary=json.dumps(summary, ensure_ascii=False))
    return build_request(ROLE, "distill", [{"role": "user", "content": text}], (), {"temperature": 0.0}, sample_index)


def parse_verdict(response: LLMResponse) -> Verdict:
    value = parse_json_object(response.content, "error judge")
    kind = value.get("error_type")
    if isinstance(kind, bool) or not isinstance(kind, int) or kind not in (0, *ERROR_TYPES):
        raise ValueError(f"error judge: error_type must be an integer 0-5, got {kind!r}")
    reason = value.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("error judge: 'reason' must be a non-empty string")
    return Verdict(kind, reason.strip())
