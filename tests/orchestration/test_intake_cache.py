"""Issue 12: each shard is prepared for assembly once, by a cached task; a re-run prepares nothing again."""

from __future__ import annotations

from flows.pipeline import pipeline_flow
from tasks.synthesis_tasks import STAGE_EXECUTIONS


def _run(config):
    state = pipeline_flow(config=config, return_state=True)
    assert state.is_completed(), state.message
    return state.result()


def test_intake_tasks_are_cached_and_rerun_assembles_the_same_version(prefect_harness, tmp_path, make_config):
    config = make_config(tmp_path, max_plans=6, shard_size=3)
    before = STAGE_EXECUTIONS.get("intake", 0)
    first = _run(config)
    prepared = STAGE_EXECUTIONS.get("intake", 0) - before
    shards = sum(row["shards"] for row in first["stages"] if row["stage"] in {"translate", "distill", "single_turn"})
    assert prepared == shards >= 3, "one intake per shard output"
    assert len(list((tmp_path / "work" / "artifacts" / "intake").iterdir())) == shards
    second = _run(config.model_copy(update={"run_name": "again"}))
    assert STAGE_EXECUTIONS.get("intake", 0) - before == prepared, "the re-run recomputed no intake"
    assert second["dataset_version"] == first["dataset_version"]
