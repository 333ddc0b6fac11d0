"""Which function each miss_func turn withholds, and which withheld functions the next turn announces.

BFCL's miss_func: the function a turn needs is withheld, the model says it is missing, and the next user
message adds the function's docs ("prompting mode") so the pending ask can be done. A stored sample has one
`tools` list, so the function stays out of it for the whole sample and is *announced* in that next user
message instead. That representation fits when the next turn does exactly the pending ask (calls only the
withheld function) and nothing called the function before; every other miss_func turn of a called
function withholds an uncalled function of the same class instead (the fallback), recorded as a node
operation either way.
"""

from __future__ import annotations

import random

from magnet_core.domain.plans import NodeOperation, NodeOperationKind, Plan, TurnLabel
from magnet_core.pools.base import FunctionPool


def announced_turns(plan: Plan) -> dict[int, str]:
    """Turn index -> the withheld function its user message announces (the turn after the miss_func one)."""
    turns = plan.turns
    withheld = [t.withheld_function for t in turns if t.label is TurnLabel.MISS_FUNC]
    announced: dict[int, str] = {}
    for index, turn in enumerate(turns[:-1]):
        name = turn.withheld_function
        if turn.label is not TurnLabel.MISS_FUNC or withheld.count(name) != 1:
            continue
        following = turns[index + 1]
        called_before = any(name in earlier.functions for earlier in turns[:index])
        if following.label is TurnLabel.NORMAL and following.functions == (name,) and not called_before:
            announced[index + 1] = name
    return announced


def withhold_uncalled(plan: Plan, pool: FunctionPool, seed: int) -> Plan:
    """Announce where `announced_turns` allows; elsewhere a miss_func turn whose function some turn calls
    withholds a never-called function of the same class instead. Idempotent."""
    announced = announced_turns(plan)
    keep = set(announced.values())
    called = set(plan.functions)
    turns = list(plan.turns)
    operations = list(plan.operations)
    rng = random.Random(f"{seed}:withhold:{plan.plan_id}")
    for index, name in sorted(announced.items()):
        _add(operations, NodeOperation(kind=NodeOperationKind.SPLIT_MISS_FUNC, turn_index=index, functions=(name,),
                                       detail=f"{name} withheld at turn {index - 1}, announced at turn {index} "
                                              "(its schema in the user message)"))
    for index, turn in enumerate(turns):
        if turn.label is not TurnLabel.MISS_FUNC or turn.withheld_function not in called or turn.withheld_function in keep:
            continue
        tool_class = pool.spec(turn.withheld_function).tool_class
        hidden = {t.withheld_function for t in turns if t.label is TurnLabel.MISS_FUNC}
        spare = sorted(s.qualified_name for s in pool.class_specs(tool_class) if s.qualified_name not in called | hidden)
        if not spare:
            continue  # the translation loop's plan check rejects it with the reason
        replacement = rng.choice(spare)
        turns[index] = turn.model_copy(update={"withheld_function": replacement})
        _add(operations, NodeOperation(kind=NodeOperationKind.SPLIT_MISS_FUNC, turn_index=index, functions=(replacement,),
                                       detail=f"withholds {replacement} instead of {turn.withheld_function}, "
                                              "which another turn calls"))
    if turns == list(plan.turns) and operations == list(plan.operations):
        return plan
    return plan.model_copy(update={"turns": tuple(turns), "operations": tuple(operations)})


def _add(operations: list[NodeOperation], operation: NodeOperation) -> None:
    if operation not in operations:
        operations.append(operation)
