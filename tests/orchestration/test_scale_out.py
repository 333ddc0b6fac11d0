"""Scale-out machinery: pools of thousands cost per item, shards read their own bytes, single-turn work is
sharded without changing a sample, thread-unsafe runners are refused, and Dask workers report to the
flow's Prefect API instead of starting a server each."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import BaseModel, ValidationError

from flows.runners import RunnerSettings
from flows.steps import bounded_shard_size
from magnet_core.distill.single_turn import SingleTurnConfig, generate_single_turn
from tasks.refs import write_jsonl
from tasks.shards import read_shard, split_into_shards
from tasks.synthesis_tasks import pack_single_turn, single_turn_shards, split_single_turn


class Item(BaseModel):
    name: str
    value: int


@pytest.mark.parametrize("settings", [{"kind": "thread", "max_workers": 2},
                                      {"kind": "dask", "max_workers": 2, "dask_processes": False},
                                      {"kind": "dask", "dask_threads_per_worker": 2}])
def test_thread_unsafe_runner_settings_are_refused(settings):
    with pytest.raises(ValidationError, match="refused|less than or equal"):
        RunnerSettings(**settings)
    assert RunnerSettings(kind="dask", max_workers=2).dask_processes  # processes: accepted


def test_pool_indexes_are_built_once_and_match_a_scan(bfcl_pool):
    assert bfcl_pool.by_name is bfcl_pool.by_name and bfcl_pool.fingerprint() == bfcl_pool.fingerprint()
    for tool_class in bfcl_pool.class_names:
        assert list(bfcl_pool.class_specs(tool_class)) == [s for s in bfcl_pool.specs if s.tool_class == tool_class]
        outside = bfcl_pool.specs_outside(tool_class)
        scan = [s for name in sorted({t.tool_class for t in bfcl_pool.specs}) if name != tool_class
                for s in bfcl_pool.specs if s.tool_class == name]
        assert list(outside) == scan and len(outside) == len(scan) and outside[-1] is scan[-1]


def test_a_shard_reads_only_its_own_bytes(tmp_path):
    ref = write_jsonl(tmp_path / "items.jsonl", [{"name": f"n{i}", "value": i} for i in range(9)])
    shards = split_into_shards(ref, 3)
    path = tmp_path / "items.jsonl"
    # change an item of shard 0 without changing its length: shard 1 still reads (it never looks there) ...
    path.write_bytes(path.read_bytes().replace(b'"n1"', b'"x1"'))
    assert [item.value for item in read_shard(shards[1], Item)] == [3, 4, 5]
    # ... while shard 0 sees that its items changed since the split
    with pytest.raises(ValueError, match="changed since it was split"):
        read_shard(shards[0], Item)


def test_task_counts_are_bounded_by_growing_shards():
    assert bounded_shard_size(40, 8, 256) == 8
    assert bounded_shard_size(30_000, 8, 256) == 118 and -(-30_000 // 118) <= 256


def test_single_turn_pieces_make_exactly_the_samples_of_the_whole(bfcl_pool):
    whole = SingleTurnConfig(single=5, parallel=0, multiple=3, irrelevance=4, start=2,
                             pairs={"single": 3, "irrelevance": 2})
    pieces = split_single_turn(single_turn_shards(whole), 2)
    assert len(pieces) == 3 + 2 + 2 and all(sum(getattr(p, k) for k in ("single", "multiple", "irrelevance")) <= 2 for p in pieces)

    def dump(result):
        return sorted(json.dumps(x.model_dump(mode="json"), sort_keys=True) for x in (*result.trajectories, *result.pairs, *result.rejects))

    one = generate_single_turn(bfcl_pool, whole)
    parts = [generate_single_turn(bfcl_pool, piece) for piece in pieces]
    assert dump(one) == sorted(line for part in parts for line in dump(part))
    assert len(one.pairs) == sum(len(p.pairs) for p in parts) > 0


def test_small_kinds_starting_together_share_a_shard_with_the_same_samples(bfcl_pool):
    whole = SingleTurnConfig(single=3, parallel=1, multiple=2, irrelevance=2, pairs={"single": 2, "multiple": 1})
    separate = split_single_turn(single_turn_shards(whole), 5)
    packed = pack_single_turn(separate, 5)
    assert [[k for k in ("single", "parallel", "multiple", "irrelevance") if getattr(p, k)] for p in packed] == \
        [["single", "parallel"], ["multiple", "irrelevance"]]
    assert pack_single_turn(split_single_turn(single_turn_shards(whole), 2), 2) == split_single_turn(single_turn_shards(whole), 2)
    later = separate[1].model_copy(update={"start": 4})  # a top-up piece continues elsewhere: never packed
    assert len(pack_single_turn([separate[0], later], 5)) == 2

    def samples(results):  # the dataset orders rows by id, not by shard
        return sorted(json.dumps(x.model_dump(mode="json"), sort_keys=True)
                      for result in results for x in (*result.trajectories, *result.pairs, *result.rejects))

    assert samples(generate_single_turn(bfcl_pool, p) for p in packed) == \
        samples(generate_single_turn(bfcl_pool, p) for p in separate)


def test_dask_workers_report_to_the_flows_api_and_start_no_server(prefect_harness):
    """...and run without the dashboard's diagnostics (profiler, fast monitors), which cost shards CPU;
    the flow's own Dask config is as it was once the runner closes."""
    import dask
    from prefect import flow, task

    from flows.runners import build_task_runner

    @task
    def where() -> dict:
        from prefect.server.api.server import SubprocessASGIServer
        from prefect.settings import PREFECT_API_URL

        import dask

        return {"pid": os.getpid(), "api": PREFECT_API_URL.value(),
                "servers": sum(bool(s.running) for s in SubprocessASGIServer._instances.values()),
                "profiler": dask.config.get("distributed.worker.profile.enabled"),
                "monitor": dask.config.get("distributed.admin.system-monitor.interval")}

    @flow
    def probe() -> list[dict]:
        with build_task_runner(RunnerSettings(kind="dask", max_workers=2)) as runner:
            return [future.result() for future in [runner.submit(where, {}) for _ in range(4)]]

    reports = probe()
    assert all(r["pid"] != os.getpid() for r in reports), "tasks ran in worker processes"
    assert {r["api"] for r in reports} == {prefect_harness}, "workers report to the flow's API"
    assert all(r["servers"] == 0 for r in reports), "no worker started a temporary server"
    assert {(r["profiler"], r["monitor"]) for r in reports} == {(False, "5s")}
    assert dask.config.get("distributed.worker.profile.enabled") is True  # the flow's config is restored...
    assert dask.config.get("distributed.comm.timeouts.connect")  # ...whole


def test_dask_workers_keep_one_api_client_and_settings_and_every_task_run_is_recorded(prefect_harness):
    """`LeanDaskTaskRunner`: the flow's settings are hydrated once per worker process and one API client
    serves all its tasks (prefect_dask rebuilt both per task), while every task run is still a Prefect
    task run that reaches Completed with its result."""
    import time

    from prefect import flow, task
    from prefect.client.orchestration import get_client
    from prefect.context import SettingsContext

    from flows.runners import build_task_runner

    @task
    def where(index: int) -> dict:
        return {"index": index, "pid": os.getpid(), "client": id(get_client(sync_client=True)),
                "settings": id(SettingsContext.get().settings)}

    @flow
    def probe() -> tuple[list[dict], list]:
        with build_task_runner(RunnerSettings(kind="dask", max_workers=2)) as runner:
            futures = [runner.submit(where, {"index": index}) for index in range(8)]
            return [future.result() for future in futures], [future.task_run_id for future in futures]

    reports, task_run_ids = probe()
    assert [r["index"] for r in reports] == list(range(8))
    by_process: dict[int, set] = {}
    for report in reports:
        by_process.setdefault(report["pid"], set()).add((report["client"], report["settings"]))
    assert all(len(seen) == 1 for seen in by_process.values()), by_process
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 30  # task-run states arrive as events: wait for them, bounded
        while True:
            states = [client.read_task_run(run_id).state for run_id in task_run_ids]
            if all(state is not None and state.is_completed() for state in states) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert all(state is not None and state.is_completed() for state in states), states


def test_the_lean_task_context_carries_what_prefect_serializes_but_the_settings():
    """A Prefect upgrade that adds to `serialize_context` must show up here, not as a silently lost context."""
    from uuid import uuid4

    from prefect import task
    from prefect.context import serialize_context

    from flows.dask_runner import task_context

    @task
    def noop() -> None:
        return None

    run_id = uuid4()
    ours = task_context(noop, run_id, {})
    theirs = serialize_context({"task": noop, "task_run_id": run_id, "task_inputs": {}, "copy_to_child_ctx": True})
    assert set(ours) == set(theirs)
    assert ours["settings_context"] == {} and theirs["settings_context"]
    assert {k: v for k, v in ours.items() if k != "settings_context"} == \
        {k: v for k, v in theirs.items() if k != "settings_context"}
