"""Offline back-and-forth translation over BFCL plans, executed in the real BFCL backends."""

from __future__ import annotations

import random
import re


from magnet_core.domain import FunctionCall, TurnLabel
from magnet_core.roles.call_writer import WrittenCall, write_call_offline
from magnet_core.roles.query_writer import write_query_offline
from magnet_core.roles.values import ValueContext
from magnet_core.translate.stage import TranslateConfig, translate_plans


def test_offline_reference_calls_execute_in_real_backends(translated_offline):
    calls = translated_offline.calls
    print(f"\noffline reference calls executed without error: {calls.succeeded}/{calls.executed} "
          f"= {calls.success_rate:.2%} over {len(translated_offline.translated) + len(translated_offline.rejects)} plans")
    assert calls.executed >= 1000
    assert calls.success_rate >= 0.95
    assert translated_offline.offline is True
    # Every scenario with a failing call is rejected with the call and the backend's reason, never dropped.
    assert len(translated_offline.translated) + len(translated_offline.rejects) == 300
    failed = calls.executed - calls.succeeded
    rejected_calls = sum(r.payload["failed_calls"] for r in translated_offline.rejects if r.reason == "execution_error")
    assert rejected_calls == failed
    for reject in translated_offline.rejects:
        assert reject.stage == "translate"
        if reject.reason == "miss_param_value_given":  # every value it could leave out was already given
            assert "already given" in reject.detail
        else:
            assert re.search(r"turn \d+: \w+\(.*\) -> .+", reject.detail)


def test_translated_turns_record_executed_results(translated_offline):
    for item in translated_offline.translated:
        assert item.models["query_writer"] == "offline" and item.models["call_writer"] == "offline"
        for turn in item.turns:
            assert len(turn.results) == len(turn.reference_calls)
            assert all(result.ok for result in turn.results)
            assert [r.call for r in turn.results] == list(turn.reference_calls)
            expected = item.scenario.plan.turns[turn.index]
            assert [c.name for c in turn.reference_calls] == [name.split(".")[-1] for name in expected.functions]


def test_queries_never_name_function_identifiers(bfcl_pool, translated_offline):
    identifiers = {spec.name for spec in bfcl_pool.specs if "_" in spec.name or re.search(r"[a-z][A-Z]", spec.name)}
    queries = [turn.query for item in translated_offline.translated for turn in item.turns]
    assert len(set(queries)) > 0.9 * len(queries)  # varied, not one template
    for query in queries:
        named = [name for name in identifiers if re.search(rf"\b{re.escape(name)}\b", query)]
        assert not named, (query, named)


def test_miss_func_turn_hides_the_function_from_the_tools(bfcl_pool, translated_offline):
    seen = 0
    for item in translated_offline.translated:
        for turn in item.turns:
            if turn.label is TurnLabel.MISS_FUNC:
                seen += 1
                assert turn.withheld_function not in turn.offered_functions
                assert turn.withheld_function not in item.offered_functions
                assert not turn.reference_calls and not turn.results
    assert seen >= 10


def test_miss_param_query_omits_the_value(bfcl_pool):
    spec = bfcl_pool.spec("MessageAPI.send_message")
    written = WrittenCall(FunctionCall(name="send_message", arguments={"receiver_id": "USR042", "message": "Lunch at noon?"}))
    full = write_query_offline([(spec, written)], random.Random(0))
    omitted = write_query_offline([(spec, written)], random.Random(0), omit_param="receiver_id")
    assert "USR042" in full and "Lunch at noon?" in full
    assert "USR042" not in omitted and "Lunch at noon?" in omitted


def test_call_writer_reuses_an_earlier_output_for_a_nested_call(bfcl_pool):
    spec = bfcl_pool.spec("MessageAPI.send_message")
    session = bfcl_pool.new_session(["MessageAPI.send_message", "MessageAPI.get_user_id"], {"MessageAPI": {"current_user": "USR001"}})
    context = ValueContext()
    context.add_output(session.invoke("get_user_id", {"user": "Daniel"}))
    written = write_call_offline(spec, session, context, random.Random(0))
    assert written.call.arguments["receiver_id"] == "USR004"
    assert written.sources["receiver_id"] == "output" and written.accepted_by_probe is True
    query = write_query_offline([(spec, written)], random.Random(0))
    assert "USR004" not in query  # referred to implicitly, as the method asks


def test_call_writer_reads_values_from_the_backend_state(bfcl_pool):
    spec = bfcl_pool.spec("GorillaFileSystem.cat")
    state = {"GorillaFileSystem": {"root": {"kim": {"type": "directory", "contents": {
        "plan.txt": {"type": "file", "content": "step one"}, "notes": {"type": "directory", "contents": {}}}}}}}
    session = bfcl_pool.new_session(["GorillaFileSystem.cat", "GorillaFileSystem.ls"], state)
    written = write_call_offline(spec, session, ValueContext(), random.Random(5))
    assert written.call.arguments == {"file_name": "plan.txt"}
    assert session.invoke("cat", written.call.arguments) == {"file_content": "step one"}


def test_translation_is_a_pure_function_of_inputs_and_seed(bfcl_pool, figure_plans):
    plans = figure_plans[:24]
    first = translate_plans(bfcl_pool, plans, TranslateConfig(seed=11))
    again = translate_plans(bfcl_pool, list(reversed(plans)), TranslateConfig(seed=11))
    other = translate_plans(bfcl_pool, plans, TranslateConfig(seed=12))
    key = lambda item: item.scenario.scenario_id  # noqa: E731
    dump = lambda result: [x.model_dump(mode="json", exclude={"turns": {"__all__": {"results": {"__all__": {"duration_s"}}}}})  # noqa: E731
                           for x in sorted(result.translated, key=key)]
    assert dump(first) == dump(again)
    assert [t.query for x in first.translated for t in x.turns] != [t.query for x in other.translated for t in x.turns]


def test_shards_partition_the_plans(bfcl_pool, figure_plans):
    plans = figure_plans[:12]
    shards = [translate_plans(bfcl_pool, plans, TranslateConfig(seed=3, shard_index=i, shard_count=3)) for i in range(3)]
    ids = [x.scenario.scenario_id for shard in shards for x in shard.translated] + \
          [r.item_id for shard in shards for r in shard.rejects]
    assert sorted(ids) == sorted(f"{p.plan_id}-s3" for p in plans)


def test_miss_func_followed_by_its_function_is_announced_not_substituted(bfcl_pool):
    from magnet_core.domain import FunctionSignaturePath, Plan, PlanTurn

    plan = Plan(plan_id="conflict", path=FunctionSignaturePath(nodes=("MathAPI.add",), seed=0),
                turns=(PlanTurn(label=TurnLabel.MISS_FUNC, withheld_function="MathAPI.add"), PlanTurn(functions=("MathAPI.add",))))
    result = translate_plans(bfcl_pool, [plan], TranslateConfig())
    item = result.translated[0]
    assert item.turns[0].withheld_function == "MathAPI.add" and "MathAPI.add" not in item.offered_functions
    assert item.turns[1].announced_functions == ("MathAPI.add",)
    assert item.scenario.plan.operations[-1].detail.startswith("MathAPI.add withheld at turn 0, announced at turn 1")


def _fallback(bfcl_pool, plan_id: str, turns) -> None:
    from magnet_core.domain import FunctionSignaturePath, Plan

    plan = Plan(plan_id=plan_id, path=FunctionSignaturePath(nodes=("MathAPI.add",), seed=0), turns=turns)
    result = translate_plans(bfcl_pool, [plan], TranslateConfig())
    item = result.translated[0]
    miss = next(turn for turn in item.turns if turn.label is TurnLabel.MISS_FUNC)
    withheld = miss.withheld_function
    assert withheld != "MathAPI.add" and withheld.startswith("MathAPI.") and withheld not in item.offered_functions
    assert "MathAPI.add" in item.offered_functions
    assert not any(turn.announced_functions for turn in item.turns)
    assert item.scenario.plan.operations[-1].detail.startswith(f"withholds {withheld} instead of MathAPI.add")


def test_miss_func_of_a_function_in_a_merged_turn_withholds_an_uncalled_one(bfcl_pool):
    from magnet_core.domain import PlanTurn

    _fallback(bfcl_pool, "merged", (PlanTurn(label=TurnLabel.MISS_FUNC, withheld_function="MathAPI.add"),
                                    PlanTurn(functions=("MathAPI.add", "MathAPI.subtract"))))


def test_miss_func_of_a_function_called_before_withholds_an_uncalled_one(bfcl_pool):
    from magnet_core.domain import PlanTurn

    _fallback(bfcl_pool, "called-before", (PlanTurn(functions=("MathAPI.add",)),
                                           PlanTurn(label=TurnLabel.MISS_FUNC, withheld_function="MathAPI.add"),
                                           PlanTurn(functions=("MathAPI.add",))))


def test_plan_with_an_unknown_parameter_is_rejected_with_a_reason(bfcl_pool):
    from magnet_core.domain import FunctionSignaturePath, Plan, PlanTurn

    plan = Plan(plan_id="bad", path=FunctionSignaturePath(nodes=("MathAPI.add",), seed=0),
                turns=(PlanTurn(functions=("MathAPI.add",)),
                       PlanTurn(label=TurnLabel.MISS_PARAM, withheld_function="MathAPI.add", withheld_param="c")))
    result = translate_plans(bfcl_pool, [plan], TranslateConfig())
    assert not result.translated
    assert result.rejects[0].reason == "invalid_plan" and "MathAPI.add has no parameter 'c'" in result.rejects[0].detail


def test_graph_stage_plans_translate_and_distill_offline(bfcl_pool):
    from magnet_core.distill.stage import DistillConfig, distill
    from magnet_core.graph.stage import PlanStageConfig, build_graph, sample_plans

    plans = sample_plans(build_graph(bfcl_pool), bfcl_pool, PlanStageConfig(walks_per_function=2, seed=4))
    assert len(plans) >= 200
    result = translate_plans(bfcl_pool, plans, TranslateConfig(seed=4))
    rate = result.calls.success_rate
    print(f"\ngraph-stage plans: {result.calls.succeeded}/{result.calls.executed} reference calls executed = {rate:.2%}; "
          f"{len(result.translated)} scenarios, {len(result.rejects)} rejects")
    assert rate >= 0.95
    distilled = distill(bfcl_pool, result.translated[:60], DistillConfig(seed=4))
    assert len(distilled.trajectories) >= 50 and len(distilled.pairs) >= 50
    # The split operation withholds what the next turn calls: most such turns are announced, not substituted.
    announced = [x for x in result.translated if any(turn.announced_functions for turn in x.turns)]
    assert len(announced) >= 10
    kept = distill(bfcl_pool, announced[:10], DistillConfig(seed=4)).trajectories
    assert len(kept) >= 8
