"""Multi-process DeepSpeed ZeRO-3 on CPU (gloo), and resuming a killed run from its checkpoint."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from magnet_core.train.config import load_train_config
from magnet_core.train.launcher import launch
from magnet_core.train.runtime import latest_complete_checkpoint
from magnet_core.train.sft import run_sft


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _losses(output_dir: Path) -> dict[int, float]:
    lines = (output_dir / "metrics.jsonl").read_text().splitlines()
    return {r["step"]: r["loss"] for r in map(json.loads, lines) if "loss" in r}


def _run_yaml(tmp_path: Path, name: str, model: Path, data: Path, **fields) -> Path:
    config = {
        "stage": "sft", "model_path": str(model), "dataset_dir": str(data), "output_dir": str(tmp_path / name),
        "learning_rate": 3e-3, "effective_batch_size": 2, "per_device_batch_size": 1, "max_steps": 2,
        "max_length": 1024, "use_cpu": True, "save_steps": 100, **fields,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_two_process_zero3_run_matches_the_single_process_loss(tmp_path, mini_model_dir, smoke_dataset):
    launch_block = {"launcher": "accelerate", "num_processes": 2, "main_process_port": _free_port()}
    multi = _run_yaml(tmp_path, "zero3", mini_model_dir, smoke_dataset, deepspeed="zero3", launch=launch_block)
    assert launch(multi, timeout_s=400) == 0
    summary = json.loads((tmp_path / "zero3" / "metrics.json").read_text())
    assert summary["world_size"] == 2 and summary["deepspeed_zero_stage"] == 3
    assert "--use_deepspeed" in (tmp_path / "zero3" / "launch.log").read_text()

    single = load_train_config(_run_yaml(tmp_path, "single", mini_model_dir, smoke_dataset))
    run_sft(single)
    sharded, reference = _losses(tmp_path / "zero3"), _losses(tmp_path / "single")
    assert sorted(sharded) == sorted(reference) == [1, 2]
    for step in reference:
        assert abs(sharded[step] - reference[step]) < 1e-4, (step, sharded, reference)


def test_latest_complete_checkpoint_skips_a_half_written_one(tmp_path):
    for step, complete in ((2, True), (4, True), (6, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    assert latest_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert latest_complete_checkpoint(tmp_path / "nothing") is None


def test_a_killed_run_resumes_from_its_checkpoint(tmp_path, tiny_model_dir, smoke_dataset):
    path = _run_yaml(tmp_path, "resume", tiny_model_dir, smoke_dataset, max_steps=200, save_steps=2,
                     save_total_limit=None, num_train_epochs=100)
    output_dir = tmp_path / "resume"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-m", "magnet_core.train.worker", "--config", str(path)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while not (output_dir / "checkpoint-4" / "trainer_state.json").is_file():
            assert child.poll() is None, "the training process ended before its second checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    killed_at = max(_losses(output_dir))
    checkpoint = latest_complete_checkpoint(output_dir)
    start = int(checkpoint.name.split("-")[1])
    assert start >= 4 and not (output_dir / "final").exists()

    result = run_sft(load_train_config(path, max_steps=start + 2))
    assert result.resumed_from_step == start and result.steps == start + 2
    resumed_steps = [r["step"] for r in result_records(output_dir) if "loss" in r][-2:]
    assert resumed_steps == [start + 1, start + 2]
    assert killed_at >= start
    state = json.loads((output_dir / f"checkpoint-{start}" / "trainer_state.json").read_text())
    assert state["global_step"] == start


def result_records(output_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (output_dir / "metrics.jsonl").read_text().splitlines()]
