"""Issue 12: the mixture keeps the work a user asked for, and a size the pool cannot meet says so.

Both run the offline pipeline (training off) on embedded Prefect: the sizes come from the real stages'
yields, the shortfall from a real small pool (one BFCL class) running dry under dedup.
"""

from __future__ import annotations

import json
from pathlib import Path

from flows.pipeline import pipeline_flow


def _run(config):
    state = pipeline_flow(config=config, return_state=True)
    assert state.is_completed(), state.message
    return state.result()


def _rows(summary, part):
    return {row["category"]: row for row in summary["dataset_mixture"][part]}


def test_raising_only_max_plans_keeps_the_distilled_multi_turn_trajectories(prefect_harness, tmp_path, make_config):
    summary = _run(make_config(tmp_path, max_plans=60, shard_size=60))
    distilled = next(row for row in summary["stages"] if row["stage"] == "distill")["items_out"]
    sft = _rows(summary, "sft")
    assert distilled > 60  # 60 paths give P and P
    assert sft["multi_turn"]["achieved"] >= 0.8 * distilled, (sft["multi_turn"], distilled)
    # pairs of every category of the paper's mDPO mixture, mixed to its ratios
    pairs = _rows(summary, "preference")
    assert all(pairs[name]["achieved"] > 0 for name in ("single", "parallel", "multiple", "multi_turn", "irrelevance"))
    assert abs(pairs["multi_turn"]["achieved_share"] - 2250 / 4556) < 0.02
    assert summary["sizing"]["mode"] == "implied by plans.max_plans"


def test_a_size_the_pool_cannot_meet_ends_with_a_shortfall_report(prefect_harness, tmp_path, make_config):
    # MessageAPI alone: 10 functions whose dependency graph gives 15 distinct walks (28 plans) in all
    target = {"sft_counts": {"multi_turn": 100, "single": 20}, "preference_counts": {"irrelevance": 5}, "margin": 0.1}
    config = make_config(tmp_path, max_plans=2, shard_size=50, pool={"kind": "bfcl", "source": "MessageAPI"}, target=target)
    summary = _run(config)
    sft, pairs = _rows(summary, "sft"), _rows(summary, "preference")
    multi = sft["multi_turn"]
    assert 0 < multi["achieved"] < 100 and multi["shortfall"] == 100 - multi["achieved"]
    assert f"short by {multi['shortfall']}" in multi["note"]
    assert "distinct paths" in summary["sizing"]["notes"]["multi_turn paths"]
    assert sft["single"]["achieved"] == 20 and sft["single"]["shortfall"] == 0
    assert pairs["irrelevance"]["achieved"] == 5 and sum(r["achieved"] for r in pairs.values()) == 5
    assert [r["paths"] > 0 for r in summary["sizing"]["rounds"]] == [True, True]  # the top-up asked for more paths
    card = Path(summary["card_path"]).read_text()
    assert f"short by {multi['shortfall']}" in card
    saved = json.loads(Path(summary["summary_path"]).read_text())
    assert saved["dataset_mixture"]["sft"] == summary["dataset_mixture"]["sft"]


def test_rounds_split_single_turn_into_chunks_that_continue_where_the_last_round_stopped(tmp_path, make_config):
    from flows.sizing import SINGLE_TURN_CHUNK, SizingState

    config = make_config(tmp_path, target={"sft_counts": {"single": 2 * SINGLE_TURN_CHUNK}, "preference_counts": {"single": 300},
                                           "top_up_rounds": 1})
    sizes = SizingState(config, config.single_turn)
    first = sizes.round_one(paths_made=1)
    asked = sizes.asked.samples["single"]
    assert [c.start for c in first] == list(range(0, asked, SINGLE_TURN_CHUNK))
    assert sum(c.single for c in first) == asked and sum(c.pairs["single"] for c in first) == sizes.asked.pairs["single"]
    assert all(c.parallel == c.multiple == c.irrelevance == 0 for c in first)
    _, more = sizes.top_up({"single": 100}, {"single": 50})
    assert more[0].start == asked and sizes.asked.samples["single"] > asked
    assert sizes.top_up({"single": 100}, {"single": 50}) is None  # no round left
