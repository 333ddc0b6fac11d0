"""Node operations: pure functions that turn a function-signature path into a harder multi-turn plan.

Each takes a draft (turns + the operations applied so far) and a `random.Random`, and returns a new
draft with its own operation recorded, so a plan says exactly how it was made. When an operation adds
a turn, the turn indexes of earlier operations that point past it are shifted, keeping provenance true.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from magnet_core.domain.plans import FunctionSignaturePath, NodeOperation, NodeOperationKind, PlanTurn, TurnLabel

# (source, target) -> [(output field of source, parameter of target)]: the judge's value evidence.
NestedFeeds = Callable[[str, str], list[tuple[str, str]]]


@dataclass(frozen=True)
class PlanDraft:
    turns: tuple[PlanTurn, ...]
    operations: tuple[NodeOperation, ...] = ()

    @property
    def functions(self) -> list[str]:
        return [name for turn in self.turns for name in turn.functions]


def draft_from_path(path: FunctionSignaturePath) -> PlanDraft:
    return PlanDraft(turns=tuple(PlanTurn(functions=(node,)) for node in path.nodes))


def merge(draft: PlanDraft, rng: random.Random, p: float = 0.3, max_functions_per_turn: int = 3) -> PlanDraft:
    """Join each turn with the one after it with probability `p` (two related asks in one message).

    Only normal turns merge, and a merged turn holds at most `max_functions_per_turn` functions.
    """
    turns: list[PlanTurn] = []
    operations = list(draft.operations)
    for turn in draft.turns:
        previous = turns[-1] if turns else None
        draw = rng.random()
        if (
            previous is not None
            and previous.label is TurnLabel.NORMAL
            and turn.label is TurnLabel.NORMAL
            and len(previous.functions) + len(turn.functions) <= max_functions_per_turn
            and draw < p
        ):
            turns[-1] = PlanTurn(functions=previous.functions + turn.functions, implicit=previous.implicit + turn.implicit)
            operations.append(
                NodeOperation(kind=NodeOperationKind.MERGE, turn_index=len(turns) - 1, functions=turns[-1].functions,
                              detail=f"joined {list(previous.functions)} and {list(turn.functions)} into one turn")
            )
        else:
            turns.append(turn)
    return PlanDraft(turns=tuple(turns), operations=tuple(operations))


def insert(
    draft: PlanDraft,
    successors: Callable[[str], Sequence[str]],
    nested_feeds: NestedFeeds,
    rng: random.Random,
    p_nested: float = 0.5,
    p_long: float = 0.2,
    max_inserts: int = 2,
    min_long_gap: int = 2,
) -> PlanDraft:
    """For the last function of each turn, maybe add a neighbour whose input comes from its output.

    A neighbour qualifies only if the judge recorded value evidence (output field -> parameter) for the
    edge, and it is not already in the plan. With probability `p_nested` it is appended to the same turn
    as an implicit call; else with probability `p_long` it becomes its own turn at least `min_long_gap`
    turns later (the value must be remembered: a long dependency).
    """
    turns = list(draft.turns)
    operations = list(draft.operations)
    used = set(draft.functions)
    inserted = 0
    index = 0
    while index < len(turns) and inserted < max_inserts:
        turn = turns[index]
        if turn.label is TurnLabel.NORMAL:
            last = turn.functions[-1]
            nested = [(n, nested_feeds(last, n)) for n in successors(last) if n not in used]
            nested = [(n, feeds) for n, feeds in nested if feeds]
            if nested:
                neighbour, feeds = nested[rng.randrange(len(nested))]
                detail = "; ".join(f"{neighbour}({param}) <- {last}.{field}" for field, param in feeds)
                draw = rng.random()
                if draw < p_nested:
                    turns[index] = PlanTurn(functions=turn.functions + (neighbour,), implicit=turn.implicit + (neighbour,))
                    operations.append(NodeOperation(kind=NodeOperationKind.INSERT_NESTED, turn_index=index, functions=(last, neighbour), detail=detail))
                    used.add(neighbour)
                    inserted += 1
                elif draw < p_nested + p_long and index + min_long_gap <= len(turns):
                    position = rng.randint(index + min_long_gap, len(turns))
                    operations = _shift(operations, position)
                    turns.insert(position, PlanTurn(functions=(neighbour,)))
                    operations.append(NodeOperation(kind=NodeOperationKind.INSERT_LONG_DEPENDENCY, turn_index=position, functions=(last, neighbour),
                                                    detail=f"{detail} (from turn {index})"))
                    used.add(neighbour)
                    inserted += 1
        index += 1
    return PlanDraft(turns=tuple(turns), operations=tuple(operations))


def add_premises(draft: PlanDraft, prerequisites: Callable[[str], Sequence[str]], max_functions_per_turn: int = 3) -> PlanDraft:
    """Before a turn, add a turn with the functions that set up a premise its calls cannot run without
    (doors locked and brake pressed before the engine starts), when no earlier call did.

    A walk may start at the target or reach it first: that plan's reference calls would then fail in
    every backend that checks its premise. `prerequisites(name)` lists the functions that set up a
    required premise of `name` (`premise_rules.required_premises`); theirs are added first, recursively.
    """
    turns: list[PlanTurn] = []
    operations = list(draft.operations)
    done: set[str] = set()

    def missing(name: str, seen: set[str]) -> list[str]:
        found: list[str] = []
        for source in prerequisites(name):
            if source not in done and source not in seen:
                seen.add(source)
                found += [*missing(source, seen), source]
        return found

    for turn in draft.turns:
        needed: list[str] = []
        for name in turn.functions:
            needed += missing(name, set(needed))
            done.add(name)
        for start in range(0, len(needed), max_functions_per_turn):
            chunk = tuple(needed[start:start + max_functions_per_turn])
            operations = _shift(operations, len(turns))
            operations.append(NodeOperation(kind=NodeOperationKind.INSERT_PREMISE, turn_index=len(turns), functions=chunk,
                                            detail=f"{list(chunk)} set up what {list(turn.functions)} needs first"))
            turns.append(PlanTurn(functions=chunk))
        done.update(needed)
        turns.append(turn)
    return PlanDraft(turns=tuple(turns), operations=tuple(operations))


def split(
    draft: PlanDraft,
    required_params: Callable[[str], Sequence[str]],
    rng: random.Random,
    miss_func_ratio: float = 0.5,
    nested_feeds: NestedFeeds | None = None,
) -> PlanDraft | None:
    """After a random turn, add an empty `miss_func` or `miss_param` turn about the next turn's function.

    `miss_func`: the next turn's first function is withheld (the right answer is to say it is missing).
    `miss_param`: one *required* parameter of it is left out of the ask (the right answer is to ask).
    A function with no required parameter cannot be asked about, so it falls back to `miss_func`.
    With `nested_feeds`, miss_param prefers a parameter no earlier function of the plan feeds (a value the
    conversation will already hold is to be reused, not asked for), at another turn if this one has none;
    translation still checks the actual values (`translate/miss_param.py`).
    Returns None for a one-turn plan: there is no turn to split after.
    """
    if len(draft.turns) < 2:
        return None
    candidates = [i for i in range(1, len(draft.turns)) if draft.turns[i].label is TurnLabel.NORMAL]
    if not candidates:
        return None
    position = candidates[rng.randrange(len(candidates))]
    needed = draft.turns[position].functions[0]
    params = sorted(required_params(needed))
    want_func = rng.random() < miss_func_ratio
    if not want_func and params and nested_feeds is not None:
        position, needed, params = _unfed_ask(draft, candidates, position, required_params, nested_feeds)
    if want_func or not params:
        turn = PlanTurn(label=TurnLabel.MISS_FUNC, withheld_function=needed)
        kind = NodeOperationKind.SPLIT_MISS_FUNC
        detail = f"{needed} withheld from the tools" + ("" if want_func else " (it has no required parameter to omit)")
    else:
        param = params[rng.randrange(len(params))]
        turn = PlanTurn(label=TurnLabel.MISS_PARAM, withheld_function=needed, withheld_param=param)
        kind = NodeOperationKind.SPLIT_MISS_PARAM
        detail = f"required parameter {param!r} of {needed} left out of the ask"
    operations = _shift(list(draft.operations), position)
    turns = list(draft.turns)
    turns.insert(position, turn)
    operations.append(NodeOperation(kind=kind, turn_index=position, functions=(needed,), detail=detail))
    return PlanDraft(turns=tuple(turns), operations=tuple(operations))


def _unfed_ask(draft: PlanDraft, candidates: list[int], position: int, required_params: Callable[[str], Sequence[str]],
               nested_feeds: NestedFeeds) -> tuple[int, str, list[str]]:
    """(position, function, required params) for a miss_param turn, preferring params that no function of an
    earlier turn feeds (by the judge's value evidence): the chosen position first, then the others in order."""
    for index in [position, *(i for i in candidates if i != position)]:
        needed = draft.turns[index].functions[0]
        earlier = {name for turn in draft.turns[:index] for name in turn.functions}
        fed = {param for source in earlier for _, param in nested_feeds(source, needed)}
        unfed = sorted(set(required_params(needed)) - fed)
        if unfed:
            return index, needed, unfed
    needed = draft.turns[position].functions[0]
    return position, needed, sorted(required_params(needed))


def _shift(operations: list[NodeOperation], position: int) -> list[NodeOperation]:
    return [op.model_copy(update={"turn_index": op.turn_index + 1}) if op.turn_index >= position else op for op in operations]
