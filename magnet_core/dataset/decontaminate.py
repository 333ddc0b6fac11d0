"""Drop samples that overlap the BFCL test sets: question n-grams or identical call sequences.

A sample is contaminated when one of its user messages has at least `overlap_threshold` of its word
n-grams in BFCL questions, when its flattened call sequence equals a multi-turn ground truth, or
when its calls satisfy a single-turn ground truth (same functions, every value among the allowed
ones, every omitted parameter optional there). Each drop is a `Reject` that names the BFCL case.
"""

from __future__ import annotations

from typing import Any, Sequence, TypeVar

from magnet_core.dataset.bfcl_index import BfclIndex
from magnet_core.dataset.config import DecontamConfig
from magnet_core.dataset.rows import sample_payload
from magnet_core.dataset.text import (
    canonical_call,
    canonical_value,
    ngrams,
    normalized_text,
    sample_id,
    sample_user_texts,
    stable_hash64,
    words,
)
from magnet_core.domain import FunctionCall, PreferencePair, Reject, Trajectory

STAGE = "decontaminate"
Sample = TypeVar("Sample", Trajectory, PreferencePair)


def _sample_calls(sample: Trajectory | PreferencePair) -> list[FunctionCall]:
    messages = sample.messages if isinstance(sample, Trajectory) else sample.prompt + sample.chosen
    return [call.function for m in messages if m.role == "assistant" for call in m.tool_calls]


def _question_hit(texts: list[str], index: BfclIndex, threshold: float) -> tuple[str, str] | None:
    for turn, text in enumerate(texts):
        grams = {stable_hash64(g) for g in ngrams(words(text), index.ngram_size)}
        if not grams:
            continue
        hits = [index.gram_to_id[g] for g in grams if g in index.gram_to_id]
        share = len(hits) / len(grams)
        if share >= threshold:
            return hits[0], f"user message {turn}: {share:.0%} of its {index.ngram_size}-grams occur in BFCL question {hits[0]}"
    return None


def _value_matches(value: Any, allowed: list[Any]) -> bool:
    value = canonical_value(value)
    for option in allowed:
        option = canonical_value(option)
        if isinstance(value, str) and isinstance(option, str):
            if normalized_text(value) == normalized_text(option):
                return True
        elif value == option:
            return True
    return False


def _call_matches(call: FunctionCall, truth: dict[str, Any]) -> bool:
    name, params = next(iter(truth.items()))
    if call.name != name or not isinstance(params, dict) or set(call.arguments) - set(params):
        return False
    for param, allowed in params.items():
        allowed = allowed if isinstance(allowed, list) else [allowed]
        if param in call.arguments:
            if not _value_matches(call.arguments[param], allowed):
                return False
        elif "" not in allowed:
            return False
    return True


def _single_hit(calls: list[FunctionCall], index: BfclIndex) -> str | None:
    key = "|".join(sorted(call.name for call in calls))
    for case_id, truth in index.single_by_names.get(key, ()):
        remaining = list(truth)
        for call in calls:
            match = next((t for t in remaining if _call_matches(call, t)), None)
            if match is None:
                break
            remaining.remove(match)
        else:
            return case_id
    return None


def contamination(sample: Trajectory | PreferencePair, index: BfclIndex, config: DecontamConfig) -> tuple[str, str] | None:
    """(reason, detail) when the sample overlaps BFCL, else None."""
    hit = _question_hit(sample_user_texts(sample), index, config.overlap_threshold)
    if hit is not None:
        return "bfcl_question_overlap", hit[1]
    if not config.check_call_sequences:
        return None
    calls = _sample_calls(sample)
    if not calls:
        return None
    case = index.sequence_to_id.get("\n".join(canonical_call(c) for c in calls))
    if case is not None:
        return "bfcl_call_sequence", f"the {len(calls)} calls equal the ground truth of BFCL {case}"
    case = _single_hit(calls, index)
    if case is not None:
        return "bfcl_call_sequence", f"the calls satisfy the ground truth of BFCL {case}"
    return None


def decontaminate(samples: Sequence[Sample], index: BfclIndex, config: DecontamConfig) -> tuple[list[Sample], list[Reject]]:
    kept: list[Sample] = []
    rejects: list[Reject] = []
    for sample in samples:
        found = contamination(sample, index, config)
        if found is None:
            kept.append(sample)
        else:
            reason, detail = found
            rejects.append(Reject(stage=STAGE, item_id=sample_id(sample), reason=reason, detail=detail, payload=sample_payload(sample)))
    return kept, rejects
