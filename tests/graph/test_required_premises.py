"""Required premises: plans never call a function before what it cannot run without, and the offline
drafter sets the premise up with the values the docs name, so such plans execute in the real backends."""

from __future__ import annotations

from magnet_core.domain.plans import NodeOperation, NodeOperationKind, PlanTurn
from magnet_core.graph.features import premise_values, spec_lexicon
from magnet_core.graph.operations import PlanDraft, add_premises
from magnet_core.graph.premise_rules import required_premises
from magnet_core.graph.stage import PlanStageConfig, sample_plans
from magnet_core.translate.stage import TranslateConfig, translate_plans

NEEDS = {"V.cruise": ["V.engine"], "V.engine": ["V.brake", "V.doors"]}


def _draft(*turns: tuple[str, ...]) -> PlanDraft:
    return PlanDraft(turns=tuple(PlanTurn(functions=t) for t in turns),
                     operations=(NodeOperation(kind=NodeOperationKind.MERGE, turn_index=1, functions=turns[1]),))


def test_missing_prerequisites_are_added_first_recursively_and_provenance_shifts():
    out = add_premises(_draft(("V.cruise",), ("V.radio", "V.seat")), lambda n: NEEDS.get(n, ()))
    assert [t.functions for t in out.turns] == [("V.brake", "V.doors", "V.engine"), ("V.cruise",), ("V.radio", "V.seat")]
    merge, premise = out.operations
    assert merge.turn_index == 2 and out.turns[merge.turn_index].functions == ("V.radio", "V.seat")
    assert premise.kind is NodeOperationKind.INSERT_PREMISE and premise.turn_index == 0


def test_prerequisites_already_called_are_not_added_again():
    out = add_premises(_draft(("V.doors",), ("V.engine", "V.cruise")), lambda n: NEEDS.get(n, ()))
    assert [t.functions for t in out.turns] == [("V.doors",), ("V.brake",), ("V.engine", "V.cruise")]
    unchanged = _draft(("V.brake", "V.doors"), ("V.engine",))
    assert add_premises(unchanged, lambda n: NEEDS.get(n, ())) == unchanged


def test_bfcl_required_premises_come_from_the_lexicon(bfcl_pool):
    found = required_premises((s.qualified_name, s.tool_class, *spec_lexicon(s)) for s in bfcl_pool.specs)
    assert found["VehicleControlAPI.startEngine"] == ["VehicleControlAPI.lockDoors", "VehicleControlAPI.pressBrakePedal"]
    assert found["VehicleControlAPI.setCruiseControl"] == ["VehicleControlAPI.startEngine"]
    specs = [bfcl_pool.spec(f"VehicleControlAPI.{n}") for n in ("lockDoors", "pressBrakePedal", "startEngine", "setCruiseControl")]
    values = premise_values(specs)
    assert values["VehicleControlAPI.lockDoors"] == {"unlock": False, "door": ["driver", "passenger", "rear_left", "rear_right"]}
    assert values["VehicleControlAPI.pressBrakePedal"] == {"pedalPosition": 1.0}
    assert values["VehicleControlAPI.startEngine"] == {"ignitionMode": "START"}
    assert premise_values(specs[:2]) == {}  # nothing later needs them: the drafter stays free


def test_vehicle_plans_that_start_the_engine_execute(bfcl_graph, bfcl_pool):
    plans = [p for p in sample_plans(bfcl_graph, bfcl_pool, PlanStageConfig(walks_per_function=2))
             if any(n.endswith((".startEngine", ".setCruiseControl")) for t in p.turns for n in t.functions)]
    assert len(plans) >= 6
    for plan in plans:
        seen = [n for t in plan.turns for n in t.functions]
        engine = seen.index("VehicleControlAPI.startEngine")
        assert {"VehicleControlAPI.lockDoors", "VehicleControlAPI.pressBrakePedal"} <= set(seen[:engine])
    result = translate_plans(bfcl_pool, plans, TranslateConfig())
    failed = {name for name in ("startEngine", "setCruiseControl") if result.calls.failures_by_function.get(name)}
    assert not failed, [r.detail for r in result.rejects]
