"""Scale-out: the shard tasks on a Dask cluster give exactly the output of the thread runner."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flows.pipeline import pipeline_flow


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
    return {"artifacts": artifacts, "stages": summary["stages"], "dataset": summary.get("dataset_version"),
            "counts": summary.get("dataset_counts")}


def test_dask_runner_matches_thread_runner(prefect_harness, tmp_path, make_config):
    results = {}
    for kind in ("thread", "dask"):
        workdir = tmp_path / kind
        config = make_config(workdir, max_plans=8, shard_size=3,
                             runner={"kind": kind, "max_workers": 2, "dask_processes": False})
        state = pipeline_flow(config=config, return_state=True)
        assert state.is_completed(), state.message
        summary = state.result()
        assert next(row for row in summary["stages"] if row["stage"] == "translate")["shards"] >= 3
        results[kind] = _outputs(summary, workdir)
    assert results["thread"]["artifacts"], "the run produced shard artifacts"
    assert results["dask"] == results["thread"], json.dumps(results, indent=1, default=str)[:2000]
