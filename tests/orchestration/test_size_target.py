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


def test_a_size_the_pool_cannot_meet_ends_with_a_shortfall_report(prefect_harness, tmp_path, make_config, monkeypatch):
    # MessageAPI alone: 10 functions whose dependency graph gives 15 distinct walks (28 plans) in all
    target = {"sft_counts": {"multi_turn": 100, "single": 20}, "preference_counts": {"irrelevance": 5}, "margin": 0.1}
    config = make_config(tmp_path, max_plans=2, shard_size=50, pool={"kind": "bfcl", "source": "MessageAPI"}, target=target)
    steps = _record_steps(monkeypatch)
    summary = _run(config)
    # a target sizes round one's single-turn shards without the plans: they are submitted before the graph
    assert steps.index(("submit", "single_turn")) < steps.index(("run", "graph")) < steps.index(("submit", "translate"))
    submitted = [name for kind, name in steps if kind == "submit"]
    assert submitted[:3] == ["single_turn", "translate", "distill"]  # each once
    assert submitted[3:] and all(name.endswith("-topup1") for name in submitted[3:])
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


def _record_steps(monkeypatch) -> list[tuple[str, str]]:
    """The pipeline's stage submissions and single tasks, in the order the flow made them."""
    import flows.pipeline as pipeline

    steps: list[tuple[str, str]] = []
    submit, run_single = pipeline.submit_shards, pipeline.run_single

    def submitting(stage, *args):
        steps.append(("submit", stage))
        return submit(stage, *args)

    def running(task, **parameters):
        steps.append(("run", task.name.removesuffix("_task")))
        return run_single(task, **parameters)

    monkeypatch.setattr(pipeline, "submit_shards", submitting)
    monkeypatch.setattr(pipeline, "run_single", running)
    return steps


def test_rounds_split_single_turn_into_chunks_that_continue_where_the_last_round_stopped(tmp_path, make_config):
    from flows.sizing import SINGLE_TURN_CHUNK, SizingState

    config = make_config(tmp_path, target={"sft_counts": {"single": 2 * SINGLE_TURN_CHUNK}, "preference_counts": {"single": 300},
                                           "top_up_rounds": 1})
    sizes = SizingState(config, config.single_turn)
    early = sizes.single_turn_early()
    first = sizes.round_one(paths_made=1)
    assert early == first  # known before the plans, and the same shards
    asked = sizes.asked.samples["single"]
    assert [c.start for c in first] == list(range(0, asked, SINGLE_TURN_CHUNK))
    assert sum(c.single for c in first) == asked and sum(c.pairs["single"] for c in first) == sizes.asked.pairs["single"]
    assert all(c.parallel == c.multiple == c.irrelevance == 0 for c in first)
    _, more = sizes.top_up({"single": 100}, {"single": 50})
    assert more[0].start == asked and sizes.asked.samples["single"] > asked
    assert sizes.top_up({"single": 100}, {"single": 50}) is None  # no round left
