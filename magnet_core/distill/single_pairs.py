"""Preference pairs for single-turn and irrelevance samples (the paper's mDPO mixture has all three kinds).

The chosen side is the verified sample's answer; the rejected side is that answer wrong in the way a
model gets such a turn wrong, executed on a fresh session from the same initial state, so its tool
outputs are the real consequences of the wrong calls:
- single: one argument takes another plausible value of its type;
- parallel: one of the argument sets is left out (an incomplete answer);
- multiple: a different offered function is called;
- irrelevance: an offered (unrelated) function is called instead of saying none fits.
Negatives are synthetic (no model) and say so in `metadata.negative_source`.
"""

from __future__ import annotations

import random
from typing import Any

from magnet_core.distill.perturb import _alternative as alternative_value  # the same plausible-value rule
from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.trajectory import CallResult, ChatMessage, PreferencePair, Reject, ToolCall, Trajectory
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.call_writer import write_call_offline
from magnet_core.roles.teacher import summary_text
from magnet_core.roles.values import ValueContext

STAGE = "single_turn.pairs"
ERROR_NAMES = {"single": "wrong_argument_value", "parallel": "missing_parallel_call", "multiple": "wrong_function",
               "irrelevance": "called_irrelevant_function"}


def _wrong_value(call: FunctionCall, rng: random.Random) -> tuple[FunctionCall, str] | None:
    for key in sorted(call.arguments):
        value = call.arguments[key]
        other = alternative_value(value, [], rng)
        if other != value:
            return FunctionCall(name=call.name, arguments={**call.arguments, key: other}), f"{key}={other!r} instead of {value!r}"
    return None


def _rejected_calls(pool: FunctionPool, kind: str, calls: list[FunctionCall], target: str, offered: list[str],
                    executor: CallExecutor, rng: random.Random) -> tuple[list[FunctionCall], str] | None:
    if kind == "single":
        wrong = _wrong_value(calls[0], rng)
        return ([wrong[0]], f"wrong argument value: {wrong[1]}") if wrong else None
    if kind == "parallel":
        return (calls[:-1], f"answers {len(calls) - 1} of the {len(calls)} requested argument sets") if len(calls) > 1 else None
    others = [name for name in offered if name != target]
    if not others:
        return None
    spec = pool.spec(rng.choice(others))
    call = write_call_offline(spec, executor.session, ValueContext(), rng).call
    verb = "calls the unrelated" if kind == "irrelevance" else "calls the wrong"
    return [call], f"{verb} function {spec.name} instead of " + ("saying none fits" if kind == "irrelevance" else target.split(".")[-1])


def build_single_pair(pool: FunctionPool, kind: str, trajectory: Trajectory, calls: list[FunctionCall], target: str,
                      offered: list[str], involved: list[str], initial_state: dict[str, Any], seed_text: str) -> PreferencePair | Reject:
    """`calls` are the reference calls the chosen side made (none for irrelevance)."""
    rng = random.Random(f"{seed_text}:pair")
    pair_id = f"{trajectory.trajectory_id}-pair-{ERROR_NAMES[kind]}"
    with CallExecutor(pool.new_session(involved, initial_state)) as executor:
        found = _rejected_calls(pool, kind, calls, target, offered, executor, rng)
        if found is None:
            return Reject(stage=STAGE, item_id=pair_id, reason="no_negative", detail=f"{kind}: no wrong answer of this kind applies")
        wrong, reason = found
        tool_calls = tuple(ToolCall(id=f"call_0_{i}", function=call) for i, call in enumerate(wrong))
        results: list[CallResult] = executor.execute_all(wrong)
    rejected = (ChatMessage(role="assistant", tool_calls=tool_calls),
                *[ChatMessage(role="tool", tool_call_id=c.id, content=r.output_text()) for c, r in zip(tool_calls, results)],
                ChatMessage(role="assistant", content=summary_text(results, rng)))
    return PreferencePair(
        pair_id=pair_id, prompt=trajectory.messages[:2], chosen=trajectory.messages[2:], rejected=rejected,
        tools=trajectory.tools, differing_turn=0, error_type=ERROR_NAMES[kind], reason=reason,
        scenario_id=trajectory.trajectory_id,
        metadata={**trajectory.metadata, "negative_source": "synthetic",
                  "models": {**trajectory.metadata.get("models", {}), "negative_sampler": "offline"}},
    )
