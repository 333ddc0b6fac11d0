"""Synthetic misleading hints: the reference calls of one turn, wrong in one of the method's five ways.

Each perturbation says which turn it touches, which error type it is and why, so the preference pair can
record where and how the rejected side goes wrong. Values are only ever changed to other plausible
values of the same type (an earlier output's value, a nearby number), never to obvious junk.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.plans import TurnLabel
from magnet_core.domain.trajectory import Turn
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.call_writer import write_call_offline
from magnet_core.roles.error_judge import ERROR_TYPES
from magnet_core.roles.labeller import nested_arguments
from magnet_core.roles.values import ValueContext, leaves


@dataclass(frozen=True)
class Perturbation:
    turn_index: int
    error_type: int
    hint: tuple[FunctionCall, ...]
    reason: str

    @property
    def error_name(self) -> str:
        return ERROR_TYPES[self.error_type]


def _producer(turns: list[Turn], turn_index: int, call_index: int, key: str, value: Any) -> tuple[int, int] | None:
    """The latest earlier call (turn, position) whose output feeds this argument (the nested-call checker)."""
    earlier = [(turn.index, position, result.output) for turn in turns[: turn_index + 1]
               for position, result in enumerate(turn.results)
               if turn.index < turn_index or position < call_index]
    fed = nested_arguments(FunctionCall(name="probe", arguments={key: value}), [output for _, _, output in earlier])
    if key not in fed:
        return None
    turn, position, _ = earlier[fed[key]]
    return turn, position


def _alternative(value: Any, turns: list[Turn], rng: random.Random) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice([1, 2, 7])
    if isinstance(value, float):
        return round(value * 1.5 + 1, 2)
    if isinstance(value, str):
        pool = sorted({v for turn in turns for r in turn.results for _, v in leaves(r.output)
                       if isinstance(v, str) and v != value and 0 < len(v) < 40})
        return rng.choice(pool) if pool else value + "_old"
    if isinstance(value, list) and value:
        return value[:-1] if len(value) > 1 else value + value
    return value


def _replace(call: FunctionCall, key: str, value: Any) -> FunctionCall:
    return FunctionCall(name=call.name, arguments={**call.arguments, key: value})


def perturbations(pool: FunctionPool, turns: list[Turn], rng: random.Random) -> list[Perturbation]:
    """Every applicable perturbation of the scenario, at most one per error type."""
    found: dict[int, Perturbation] = {}
    for turn in turns:
        calls = list(turn.reference_calls)
        for position, call in enumerate(calls):
            for key, value in call.arguments.items():
                source = _producer(turns, turn.index, position, key, value)
                if source is None:
                    continue
                source_turn, source_position = source
                if source_turn == turn.index and 1 not in found:
                    dropped = calls[:source_position] + calls[source_position + 1:]
                    found[1] = Perturbation(turn.index, 1, tuple(dropped),
                                            f"skips {calls[source_position].name}, whose output {call.name}.{key} needs")
                if source_turn == turn.index and 2 not in found:
                    wrong = _replace(call, key, _alternative(value, turns, rng))
                    found[2] = Perturbation(turn.index, 2, tuple(calls[:position] + [wrong] + calls[position + 1:]),
                                            f"{call.name}.{key} ignores the value {calls[source_position].name} just returned")
                if source_turn < turn.index and 3 not in found:
                    wrong = _replace(call, key, _alternative(value, turns, rng))
                    found[3] = Perturbation(turn.index, 3, tuple(calls[:position] + [wrong] + calls[position + 1:]),
                                            f"{call.name}.{key} forgets the value produced in turn {source_turn}")
        if len(calls) >= 2 and 1 not in found:
            found[1] = Perturbation(turn.index, 1, tuple(calls[:-1]), f"leaves out the follow-up call {calls[-1].name}")
        if turn.label is TurnLabel.NORMAL and turn.results and 4 not in found:
            found[4] = Perturbation(turn.index, 4, tuple(calls), "the closing text misstates what the outputs say")
        if turn.label is not TurnLabel.NORMAL and 5 not in found:
            found5 = _misjudged(pool, turn, rng)
            if found5 is not None:
                found[5] = found5
    if 5 not in found:
        normal = [turn for turn in turns if turn.label is TurnLabel.NORMAL and turn.reference_calls]
        if normal:
            turn = rng.choice(normal)
            found[5] = Perturbation(turn.index, 5, (), "claims no function fits although the offered ones do")
    return [found[kind] for kind in sorted(found)]


def _misjudged(pool: FunctionPool, turn: Turn, rng: random.Random) -> Perturbation | None:
    """Type 5 on a missing-info turn: call anyway instead of asking. miss_param: the function with a
    guessed value. miss_func: an *offered* function standing in for the withheld one (the withheld
    function is not offered, so a model could never be led to call it); None without a stand-in."""
    spec = pool.spec(turn.withheld_function)
    if turn.label is TurnLabel.MISS_PARAM:
        guess = write_call_offline(spec, None, ValueContext(), rng, probe=False).call
        if turn.withheld_param not in guess.arguments:
            guess = _replace(guess, turn.withheld_param, "default")
        return Perturbation(turn.index, 5, (guess,), f"guesses the missing value instead of asking ({spec.name})")
    offered = [pool.spec(name) for name in turn.offered_functions if name != turn.withheld_function]
    stand_ins = [s for s in offered if s.tool_class == spec.tool_class] or offered
    if not stand_ins:
        return None
    stand_in = rng.choice(sorted(stand_ins, key=lambda s: s.name))
    guess = write_call_offline(stand_in, None, ValueContext(), rng, probe=False).call
    return Perturbation(turn.index, 5, (guess,), f"calls {stand_in.name} as if it could do what the missing "
                                                 f"{spec.name} does, instead of saying it is missing")


def misstate(output: Any, rng: random.Random) -> Any:
    """The output with its first scalar changed: what a wrong summary would report."""
    if isinstance(output, dict):
        for key, value in output.items():
            changed = misstate(value, rng)
            if changed != value:
                return {**output, key: changed}
        return output
    if isinstance(output, list) and output:
        return [misstate(output[0], rng), *output[1:]]
    if isinstance(output, bool):
        return not output
    if isinstance(output, (int, float)):
        return output + rng.choice([3, 11, 42])
    if isinstance(output, str) and output:
        return output[::-1] if len(output) > 2 else output + "x"
    return output
