"""Issue 12: each shard output is prepared for assembly once, by the task that made it (no task run of its
own); an output that comes without (cached from a run with other settings, or preparing failed) is
prepared by a cached `intake_task`; a re-run prepares nothing again and assembles the same version."""

from __future__ import annotations

from flows.pipeline import pipeline_flow
from tasks.synthesis_tasks import STAGE_EXECUTIONS

from tests.orchestration.conftest import task_runs_of

SHARD_STAGES = {"translate", "distill", "single_turn"}


def _run(config):
    state = pipeline_flow(config=config, return_state=True)
    assert state.is_completed(), state.message
    return state


def _counts() -> dict[str, int]:
    return {stage: STAGE_EXECUTIONS.get(stage, 0) for stage in ("intake", "intake_task", "translate", "distill")}


def _since(before: dict[str, int]) -> dict[str, int]:
    return {stage: count - before[stage] for stage, count in _counts().items()}


def test_shard_tasks_prepare_their_outputs_and_a_rerun_prepares_nothing(prefect_harness, tmp_path, make_config):
    config = make_config(tmp_path, max_plans=6, shard_size=3)
    before = _counts()
    state = _run(config)
    first = state.result()
    shards = sum(row["shards"] for row in first["stages"] if row["stage"] in SHARD_STAGES)
    assert _since(before)["intake"] == shards >= 3, "one preparation per shard output"
    assert _since(before)["intake_task"] == 0, "prepared inside the shard tasks"
    names = [run.name for run in task_runs_of(state.state_details.flow_run_id)]
    assert not [name for name in names if name.startswith("intake")], names
    assert len(list((tmp_path / "work" / "artifacts" / "intake").iterdir())) == shards
    second = _run(config.model_copy(update={"run_name": "again"})).result()
    assert _since(before)["intake"] == shards, "the re-run recomputed no intake"
    assert second["dataset_version"] == first["dataset_version"]


def test_cached_outputs_under_new_assemble_settings_are_prepared_by_intake_tasks(prefect_harness, tmp_path, make_config):
    config = make_config(tmp_path, max_plans=6, shard_size=3)
    first = _run(config).result()
    shards = sum(row["shards"] for row in first["stages"] if row["stage"] in SHARD_STAGES)
    before = _counts()
    other = config.model_copy(update={"run_name": "no-dedup", "assemble": config.assemble.model_copy(
        update={"dedup": config.assemble.dedup.model_copy(update={"enabled": False})})})
    state = _run(other)
    ran = _since(before)
    assert ran["translate"] == ran["distill"] == 0, "the synthesis shards came from the cache"
    assert ran["intake_task"] == ran["intake"] == shards, "each cached output prepared anew, by an intake task"
    names = [run.name for run in task_runs_of(state.state_details.flow_run_id)]
    assert len([name for name in names if name.startswith("intake")]) == shards


def test_a_failed_preparation_never_fails_the_shard(prefect_harness, tmp_path, make_config, monkeypatch):
    """Fault injected into the per-sample pass inside the shard tasks only: the shards finish, the flow's
    intake tasks prepare their outputs, and the dataset is the one a clean run assembles."""
    from prefect.context import TaskRunContext

    import magnet_core.dataset.prepared as prepared

    clean = _run(make_config(tmp_path / "clean", max_plans=6, shard_size=3)).result()
    real = prepared.prepare_shard

    def fails_in_shard_tasks(*args, **kwargs):
        if TaskRunContext.get().task.name != "intake":
            raise OSError("disk full (injected)")
        return real(*args, **kwargs)

    monkeypatch.setattr(prepared, "prepare_shard", fails_in_shard_tasks)
    before = _counts()
    faulty = _run(make_config(tmp_path / "faulty", max_plans=6, shard_size=3)).result()
    shards = sum(row["shards"] for row in faulty["stages"] if row["stage"] in SHARD_STAGES)
    ran = _since(before)
    assert ran["translate"] > 0 and ran["intake_task"] == shards, ran
    assert faulty["dataset_version"] == clean["dataset_version"]
