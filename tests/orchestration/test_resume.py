"""A pipeline killed mid-run (SIGKILL, after some shards finished) and re-run resumes: finished shards come
from the cache, the others run, and the dataset equals an uninterrupted run's, without duplicate rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from flows.pipeline import pipeline_flow

BIN = Path(sys.executable).parent


def _dataset_rows(dataset_path: str) -> dict[str, pd.DataFrame]:
    tables = {}
    for table in ("sft", "preference", "rejects"):
        parts = sorted((Path(dataset_path) / table).glob("*.parquet"))
        tables[table] = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame()
    return tables


def test_killed_pipeline_resumes_to_the_same_dataset(prefect_harness, tmp_path, make_config):
    options = {"max_plans": 24, "shard_size": 2, "runner": {"max_workers": 1}}
    reference_state = pipeline_flow(config=make_config(tmp_path / "reference", **options), return_state=True)
    assert reference_state.is_completed(), reference_state.message
    reference = reference_state.result()
    expected = {p.name for p in (tmp_path / "reference" / "work" / "artifacts" / "translate").glob("*.json")}
    assert len(expected) >= 6

    config = make_config(tmp_path / "killed", **options)
    config_file = tmp_path / "pipeline.yaml"
    config_file.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    env = {**os.environ, "PREFECT_API_URL": prefect_harness}
    shard_dir = tmp_path / "killed" / "work" / "artifacts" / "translate"
    process = subprocess.Popen([str(BIN / "magnet"), "run", "--config", str(config_file)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    finished: set[str] = set()
    while len(finished) < 2:
        assert process.poll() is None, "the pipeline ended before it could be killed"
        assert time.monotonic() < deadline, "no shard finished in time"
        finished = {p.name for p in shard_dir.glob("*.json")} if shard_dir.exists() else set()
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    finished = {p.name for p in shard_dir.glob("*.json")}
    assert 2 <= len(finished) < len(expected), "killed after some shards and before the stage finished"
    assert finished <= expected, "the killed run computed the same shards (same content-derived names)"
    assert not list((tmp_path / "killed" / "data").glob("v*/manifest.json")), "no dataset was written before the kill"

    resumed_state = pipeline_flow(config=config.model_copy(update={"run_name": "resumed"}), return_state=True)
    assert resumed_state.is_completed(), resumed_state.message
    resumed = resumed_state.result()
    translate = next(row for row in resumed["stages"] if row["stage"] == "translate")
    assert translate["shards"] == len(expected)
    assert len(finished) - 1 <= translate["cached"] < translate["shards"], "finished shards came from the cache"

    assert resumed["dataset_version"] == reference["dataset_version"]
    assert resumed["dataset_counts"] == reference["dataset_counts"]
    got, want = _dataset_rows(resumed["dataset_path"]), _dataset_rows(reference["dataset_path"])
    for table in ("sft", "preference"):
        if not got[table].empty:
            assert not got[table]["id"].duplicated().any(), f"duplicate {table} rows"
        pd.testing.assert_frame_equal(got[table], want[table])
    assert len(got["rejects"]) == len(want["rejects"]) and not got["rejects"].duplicated().any()
    versions = list((tmp_path / "killed" / "data").glob("v*"))
    assert len(versions) == 1, "one dataset version, not a second copy"
