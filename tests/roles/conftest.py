"""Fixtures for the roles/translate/distill/verify tests: hand-built BFCL plans (straight from the domain
model, independent of the graph area) and their offline translation, computed once per session."""

from __future__ import annotations

import random

import pytest

from magnet_core.domain import FunctionSignaturePath, NodeOperation, NodeOperationKind, Plan, PlanTurn, TurnLabel

FIGURE_PLANS = 300


def hand_plans(pool, count: int, seed: int = 0) -> list[Plan]:
    """Seeded walks inside one BFCL class, merged (p=0.3) and, for every other plan, split with a
    miss_func or miss_param turn, the way the method's node operations shape plans."""
    rng = random.Random(seed)
    by_class = pool.classes()
    names = sorted(by_class)
    plans: list[Plan] = []
    for index in range(count):
        specs = by_class[names[index % len(names)]]
        walk = [rng.choice(specs).qualified_name for _ in range(rng.randint(3, 6))]
        turns: list[PlanTurn] = []
        operations: list[NodeOperation] = []
        for name in walk:
            if turns and rng.random() < 0.3 and len(turns[-1].functions) < 3:
                turns[-1] = PlanTurn(functions=(*turns[-1].functions, name))
                operations.append(NodeOperation(kind=NodeOperationKind.MERGE, turn_index=len(turns) - 1, functions=(name,)))
            else:
                turns.append(PlanTurn(functions=(name,)))
        variant = "P"
        unused = [s for s in specs if s.qualified_name not in walk]
        if index % 2 == 1 and unused:
            position = rng.randint(1, len(turns))
            with_params = [s for s in unused if s.required_params]
            if with_params and rng.random() < 0.5:
                spec = rng.choice(with_params)
                turn = PlanTurn(label=TurnLabel.MISS_PARAM, withheld_function=spec.qualified_name,
                                withheld_param=rng.choice(spec.required_params))
                kind = NodeOperationKind.SPLIT_MISS_PARAM
            else:
                spec = rng.choice(unused)
                turn = PlanTurn(label=TurnLabel.MISS_FUNC, withheld_function=spec.qualified_name)
                kind = NodeOperationKind.SPLIT_MISS_FUNC
            turns.insert(position, turn)
            operations.append(NodeOperation(kind=kind, turn_index=position, functions=(spec.qualified_name,)))
            variant = "P_prime"
        path = FunctionSignaturePath(nodes=tuple(walk), seed=seed + index)
        plans.append(Plan(plan_id=f"hand-{seed}-{index}", path=path, turns=tuple(turns), operations=tuple(operations),
                          variant=variant))
    return plans


@pytest.fixture(scope="session")
def unlock_plan() -> Plan:
    """[normal g] [miss_func f] [normal f]: the shape the graph stage's split operation makes, where the
    withheld f is announced in the third user message."""
    return Plan(plan_id="unlock", path=FunctionSignaturePath(nodes=("MathAPI.add", "MathAPI.multiply"), seed=0),
                turns=(PlanTurn(functions=("MathAPI.add",)),
                       PlanTurn(label=TurnLabel.MISS_FUNC, withheld_function="MathAPI.multiply"),
                       PlanTurn(functions=("MathAPI.multiply",))), variant="P_prime")


@pytest.fixture(scope="session")
def figure_plans(bfcl_pool):
    return hand_plans(bfcl_pool, FIGURE_PLANS, seed=1)


@pytest.fixture(scope="session")
def translated_offline(bfcl_pool, figure_plans):
    from magnet_core.translate.stage import TranslateConfig, translate_plans

    return translate_plans(bfcl_pool, figure_plans, TranslateConfig(seed=3))


@pytest.fixture(scope="session")
def distilled_offline(bfcl_pool, translated_offline):
    from magnet_core.distill.stage import DistillConfig, distill

    return distill(bfcl_pool, translated_offline.translated[:80], DistillConfig(seed=3))


@pytest.fixture(scope="session")
def make_plans():
    """`hand_plans(pool, count, seed)` for tests that need their own few plans."""
    return hand_plans
