"""Scale-out: the shard tasks on a Dask cluster give exactly the output of the thread runner."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flows.pipeline import pipeline_flow
from tasks.synthesis_tasks import STAGE_EXECUTIONS


TIMINGS = {"duration_s", "latency_s"}  # wall-clock measurements recorded in results: the only allowed difference


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _content_hash(path: Path) -> str:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line]
    return hashlib.sha256(json.dumps(_without_timings(lines), sort_keys=True).encode()).hexdigest()


def _outputs(summary: dict, workdir: Path) -> dict:
    """Every shard artifact by content hash, plus the dataset version (content-addressed too)."""
    artifacts = sorted(
        (path.parent.name, path.name, _content_hash(path))
        for path in (workdir / "work" / "artifacts").rglob("*.json*")
    )
    dataset = Path(summary["dataset_path"])
    files = {str(p.relative_to(dataset)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dataset.rglob("*")) if p.is_file()}
    return {"artifacts": artifacts, "stages": summary["stages"], "dataset": summary.get("dataset_version"),
            "counts": summary.get("dataset_counts"), "dataset_files": files}


def test_dask_runner_matches_thread_runner(prefect_harness, tmp_path, make_config):
    results = {}
    runners = {"thread": {"kind": "thread", "max_workers": 1},
               "dask": {"kind": "dask", "max_workers": 2, "dask_processes": True}}  # 2 worker processes
    for kind, runner in runners.items():
        workdir = tmp_path / kind
        config = make_config(workdir, max_plans=8, shard_size=3, runner=runner)
        in_this_process = STAGE_EXECUTIONS.get("translate", 0)
        intakes_here = STAGE_EXECUTIONS.get("intake", 0)
        state = pipeline_flow(config=config, return_state=True)
        assert state.is_completed(), state.message
        summary = state.result()
        ran_here = STAGE_EXECUTIONS.get("translate", 0) - in_this_process
        translate_shards = next(row for row in summary["stages"] if row["stage"] == "translate")["shards"]
        assert ran_here == (translate_shards if kind == "thread" else 0), "dask shards ran in the worker processes"
        intakes = sum(row["shards"] for row in summary["stages"] if row["stage"] in {"translate", "distill", "single_turn"})
        prepared_here = STAGE_EXECUTIONS.get("intake", 0) - intakes_here
        assert prepared_here == (intakes if kind == "thread" else 0), "each shard prepared once, in the workers on dask"
        assert next(row for row in summary["stages"] if row["stage"] == "translate")["shards"] >= 3
        results[kind] = _outputs(summary, workdir)
    assert results["thread"]["artifacts"], "the run produced shard artifacts"
    assert results["dask"] == results["thread"], json.dumps(results, indent=1, default=str)[:2000]
