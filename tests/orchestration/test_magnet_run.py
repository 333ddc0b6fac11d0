"""`magnet run` end to end (what `make run` does): synthesis, dataset, tiny-model SFT and mDPO as one
Prefect flow; a second run is served from the cache, makes no teacher call and says how much faster."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent


def _magnet_run(cwd: Path, env: dict) -> str:
    result = subprocess.run([str(BIN / "magnet"), "run", "--config", "small.yaml"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def test_magnet_run_twice_trains_then_serves_everything_from_cache(prefect_harness, tmp_path):
    config = {"plans": {"max_plans": 6}, "shard_size": 4,
              "single_turn": {"single": 3, "parallel": 2, "multiple": 2, "irrelevance": 2},
              "assemble": {"plots": False},
              "training": {"sft_max_steps": 2, "mdpo_max_steps": 1}}
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PREFECT_API_URL": prefect_harness, "OMP_NUM_THREADS": "1"}

    first = _magnet_run(tmp_path, env)
    assert "[offline default]" in first
    paths = dict(re.findall(r"^(dataset|dataset card|ledger|SFT checkpoint|mDPO checkpoint):\s+(\S+)$", first, re.M))
    assert set(paths) == {"dataset", "dataset card", "ledger", "SFT checkpoint", "mDPO checkpoint"}, first
    assert Path(paths["dataset"]).parent == (tmp_path / "data").resolve()
    assert (Path(paths["dataset"]) / "sft").is_dir() and Path(paths["dataset card"]).is_file()
    for checkpoint in (paths["SFT checkpoint"], paths["mDPO checkpoint"]):
        assert (Path(checkpoint) / "config.json").is_file()
    assert "teacher calls this run: 0" in first and "previous run" not in first
    assert re.search(r"^multi-turn shape: [\d.]+ turns, [\d.]+ calls per sample \(paper 4.71 / 15.1\)$", first, re.M), first

    second = _magnet_run(tmp_path, env)
    rows = re.findall(r"^\s+(\w+)\s+shards\s+(\d+) \(cached\s+(\d+)\)", second, re.M)
    assert rows and all(shards == cached for _, shards, cached in rows), second
    assert dict(re.findall(r"^(dataset|mDPO checkpoint):\s+(\S+)$", second, re.M)) == {
        "dataset": paths["dataset"], "mDPO checkpoint": paths["mDPO checkpoint"]}
    assert "teacher calls this run: 0" in second
    timing = re.search(r"previous run: ([\d.]+) s .* \(ratio previous/this = ([\d.]+)x\)", second)
    assert timing, second
    assert float(timing.group(2)) > 1.0, "the cached re-run is faster"
