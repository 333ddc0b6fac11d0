"""Hand-built plans for the roles tests: seeded walks inside one BFCL class, merged and split the way
the method's node operations do, built straight from the domain model (independent of the graph area)."""

from __future__ import annotations

import random

from magnet_core.domain import FunctionSignaturePath, NodeOperation, NodeOperationKind, Plan, PlanTurn, TurnLabel


def hand_plans(pool, count: int, seed: int = 0, classes: list[str] | None = None) -> list[Plan]:
    rng = random.Random(seed)
    by_class = {name: [spec for spec in specs] for name, specs in pool.classes().items()}
    names = sorted(classes or by_class)
    plans: list[Plan] = []
    for index in range(count):
        tool_class = names[index % len(names)]
        specs = by_class[tool_class]
        walk = [rng.choice(specs).qualified_name for _ in range(rng.randint(3, 6))]
        path = FunctionSignaturePath(nodes=tuple(walk), seed=seed + index)
        turns: list[PlanTurn] = []
        operations: list[NodeOperation] = []
        for name in walk:
            if turns and rng.random() < 0.3 and len(turns[-1].functions) < 3:
                turns[-1] = PlanTurn(functions=(*turns[-1].functions, name))
                operations.append(NodeOperation(kind=NodeOperationKind.MERGE, turn_index=len(turns) - 1, functions=(name,)))
            else:
                turns.append(PlanTurn(functions=(name,)))
        variant = "P"
        if index % 2 == 1:
            unused = [s for s in specs if s.qualified_name not in walk]
            with_params = [s for s in unused if s.required_params]
            position = rng.randint(1, len(turns))
            if with_params and rng.random() < 0.5:
                spec = rng.choice(with_params)
                turn = PlanTurn(label=TurnLabel.MISS_PARAM, withheld_function=spec.qualified_name,
                                withheld_param=rng.choice(spec.required_params))
                kind = NodeOperationKind.SPLIT_MISS_PARAM
            elif unused:
                spec = rng.choice(unused)
                turn = PlanTurn(label=TurnLabel.MISS_FUNC, withheld_function=spec.qualified_name)
                kind = NodeOperationKind.SPLIT_MISS_FUNC
            else:
                turn = None
            if turn is not None:
                turns.insert(position, turn)
                operations.append(NodeOperation(kind=kind, turn_index=position, functions=(spec.qualified_name,)))
                variant = "P_prime"
        plans.append(Plan(plan_id=f"hand-{seed}-{index}", path=path, turns=tuple(turns), operations=tuple(operations),
                          variant=variant))
    return plans
