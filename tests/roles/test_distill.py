"""Offline hint distillation: positive trajectories and preference pairs from translated BFCL plans."""

from __future__ import annotations

import json

from magnet_core.domain import TurnLabel
from magnet_core.distill.stage import DistillConfig, distill
from magnet_core.roles.error_judge import ERROR_TYPES
from magnet_core.verify.checks import turn_segments

METADATA_KEYS = {"category", "plan_id", "plan_variant", "node_operations", "turn_labels", "source_pool", "pool_fingerprint",
                 "initial_state", "models", "offline", "simulated", "seed", "cost_usd", "prompt_versions"}


def _stored_text(messages) -> str:
    return json.dumps([m.to_openai() for m in messages], ensure_ascii=False).lower()


def test_offline_distillation_yields_trajectories_and_pairs(distilled_offline):
    assert len(distilled_offline.trajectories) >= 60
    assert len(distilled_offline.pairs) >= 60
    assert distilled_offline.offline is True
    for trajectory in distilled_offline.trajectories:
        assert METADATA_KEYS <= set(trajectory.metadata)
        assert trajectory.metadata["offline"] is True and trajectory.metadata["category"] == "multi_turn"
        assert set(trajectory.metadata["models"].values()) == {"offline"}


def test_hint_is_never_stored(distilled_offline):
    for trajectory in distilled_offline.trajectories:
        text = _stored_text(trajectory.messages)
        assert "<reference_calls>" not in text and "hint" not in text and "reference" not in text
    for pair in distilled_offline.pairs:
        text = _stored_text((*pair.prompt, *pair.chosen, *pair.rejected))
        assert "<reference_calls>" not in text and "hint" not in text


def test_positive_trajectories_reproduce_references_one_call_per_step(bfcl_pool, translated_offline, distilled_offline):
    by_id = {item.scenario.scenario_id: item for item in translated_offline.translated}
    for trajectory in distilled_offline.trajectories:
        item = by_id[trajectory.scenario_id]
        assert trajectory.messages[0].role == "system"
        segments = turn_segments(trajectory.messages)
        assert len(segments) == len(item.turns)
        for turn, segment in zip(item.turns, segments):
            steps = [m for m in segment if m.tool_calls]
            assert all(len(m.tool_calls) == 1 for m in steps)
            assert [m.tool_calls[0].function for m in steps] == list(turn.reference_calls)
            for position, message in enumerate(segment[:-1]):  # each call is answered by its tool message
                if message.tool_calls:
                    assert segment[position + 1].role == "tool"
                    assert segment[position + 1].tool_call_id == message.tool_calls[0].id
            assert segment[-1].role == "assistant" and segment[-1].content and not segment[-1].tool_calls
            if turn.label is not TurnLabel.NORMAL:
                assert not steps
        offered = {tool["function"]["name"] for tool in trajectory.tools}
        hidden = {bfcl_pool.spec(t.withheld_function).name for t in item.turns if t.label is TurnLabel.MISS_FUNC}
        assert not offered & hidden


def test_missing_info_turns_ask_instead_of_calling(bfcl_pool, translated_offline, distilled_offline):
    by_id = {item.scenario.scenario_id: item for item in translated_offline.translated}
    asked = 0
    for trajectory in distilled_offline.trajectories:
        for turn, segment in zip(by_id[trajectory.scenario_id].turns, turn_segments(trajectory.messages)):
            if turn.label is TurnLabel.MISS_PARAM:
                asked += 1
                assert len(segment) == 1 and segment[0].content.rstrip().endswith("?")
            elif turn.label is TurnLabel.MISS_FUNC:
                asked += 1
                assert len(segment) == 1 and "tool" in segment[0].content.lower()
    assert asked >= 10


def test_tool_order_is_shuffled_per_sample(distilled_offline):
    orders: dict[frozenset, set] = {}
    for trajectory in distilled_offline.trajectories:
        names = tuple(tool["function"]["name"] for tool in trajectory.tools)
        orders.setdefault(frozenset(names), set()).add(names)
    assert any(len(variants) > 1 for variants in orders.values())


def test_pairs_differ_at_the_recorded_turn(translated_offline, distilled_offline):
    by_id = {t.scenario_id: t for t in distilled_offline.trajectories}
    queries = {item.scenario.scenario_id: [turn.query for turn in item.turns] for item in translated_offline.translated}
    kinds = set()
    for pair in distilled_offline.pairs:
        kinds.add(pair.error_type)
        assert pair.error_type in ERROR_TYPES.values() and pair.reason
        assert pair.prompt[-1].role == "user"
        assert pair.prompt[-1].content == queries[pair.scenario_id][pair.differing_turn]
        chosen_trajectory = by_id[pair.scenario_id]
        segment = turn_segments(chosen_trajectory.messages)[pair.differing_turn]
        assert list(pair.chosen) == segment
        assert list(pair.prompt) == list(chosen_trajectory.messages[: len(pair.prompt)])
        assert [m.model_dump() for m in pair.rejected] != [m.model_dump() for m in pair.chosen]
        assert pair.metadata["negative_source"] == "synthetic" and pair.metadata["offline"] is True
        assert pair.metadata["judge_error_type"] != 0  # the offline judge sees the error too
    assert len(kinds) >= 4, kinds


def test_distillation_is_deterministic(bfcl_pool, translated_offline):
    items = translated_offline.translated[:15]
    first = distill(bfcl_pool, items, DistillConfig(seed=5))
    again = distill(bfcl_pool, list(reversed(items)), DistillConfig(seed=5))
    dump = lambda result: sorted(json.dumps(t.to_openai_messages()) for t in result.trajectories) + \
        sorted(p.model_dump_json() for p in result.pairs)  # noqa: E731
    assert dump(first) == dump(again)
