"""A real `magnet run` killed with SIGKILL mid-translate, re-run and killed mid-distill, re-run again:
the final dataset version equals an uninterrupted run's, no answered call is paid twice (counted at the
server), and every answered call is in the killed runs' ledgers (the journal survives SIGKILL).

The kill is deterministic: the fake server SIGKILLs the client when its n-th request arrives (that one is
never answered). The model admits one call at a time and one shard runs at a time, so request n is sent
only after call n-1 was fully recorded (cache entry and ledger line). A wrapper blocks on stdin until the
server knows the process id, then execs `magnet run` in the same process: no sleeps, no races.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from magnet_core.llm.fake_answers import AnswerRules
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.llm.ledger import journal_records

REPO = Path(__file__).resolve().parents[2]
MAGNET = Path(sys.executable).with_name("magnet")
WRAPPER = "import os, sys; sys.stdin.readline(); os.execv(sys.argv[1], sys.argv[1:])"


def _config(tmp_path, make_config, server, workdir: str, run_name: str) -> Path:
    model = {"model": "openai/fake-model", "api_base": server.url, "max_retries": 0, "timeout_s": 30.0,
             "max_concurrency": 1, "input_cost_per_mtok": 1.0, "output_cost_per_mtok": 2.0}
    config = make_config(tmp_path / workdir, max_plans=4, shard_size=2, run_name=run_name,
                         single_turn={"single": 2, "parallel": 0, "multiple": 0, "irrelevance": 0},
                         distill={"pairs_per_scenario": 0, "mined_per_scenario": 0},
                         models={"w": model}, roles={"query_writer": "w", "teacher": "w"},
                         runner={"max_workers": 1})
    path = tmp_path / f"{workdir}-{run_name}.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return path


def _run(server, config: Path, env: dict, kill_at: int | None) -> tuple[int, str, int]:
    """(exit code, output, requests the server answered) of one `magnet run`."""
    server.server.reset()
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, str(MAGNET), "run", "--config", str(config), "--no-train"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    server.server.configure(kill_at=(proc.pid, kill_at) if kill_at is not None else None)
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    output = proc.stdout.read().decode(errors="replace")
    code = proc.wait(timeout=600)
    requests = server.stats.chat_requests
    answered = requests - 1 if kill_at is not None else requests
    return code, output, answered


def _ledger(run_dir: Path) -> pd.DataFrame:
    rows = [r.__dict__ for p in sorted(run_dir.glob("ledger/*.jsonl")) for r in journal_records(p)]
    parts = [pd.read_parquet(p) for p in sorted(run_dir.glob("ledger/*.parquet"))]
    return pd.concat([pd.DataFrame(rows), *parts], ignore_index=True) if rows or parts else pd.DataFrame()


def _version(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("dataset:"))
    return Path(line.split(":", 1)[1].strip()).name


def test_sigkill_mid_translate_and_mid_distill_resumes_to_the_same_version_paying_nothing_twice(
        prefect_harness, tmp_path, make_config):
    env = {**os.environ, "PREFECT_API_URL": str(prefect_harness), "PYTHONPATH": str(REPO)}
    # roles mode: the query writer (translate and single-turn) and the teacher both get usable answers
    with FakeServerThread(FakeServerConfig(prompt_tokens=100, completion_tokens=20, answers=AnswerRules(mode="roles"))) as server:
        code, output, uninterrupted = _run(server, _config(tmp_path, make_config, server, "a", "whole"), env, None)
        assert code == 0, output
        whole = _ledger(tmp_path / "a" / "work" / "runs" / "whole")
        by_stage = whole[whole.status == "ok"].groupby("stage").size().to_dict()
        assert by_stage["preflight"] == 1 and by_stage["translate"] >= 4 and by_stage["distill"] >= 2
        assert len(whole[whole.status == "ok"]) == uninterrupted

        # 1. killed mid-translate: request n (0 = preflight) arrives half-way through the translate calls
        kill1 = 1 + by_stage["translate"] // 2
        code, output, answered1 = _run(server, _config(tmp_path, make_config, server, "b", "killed1"), env, kill1)
        assert code == -signal.SIGKILL, output
        killed1 = _ledger(tmp_path / "b" / "work" / "runs" / "killed1")
        assert len(killed1[killed1.status == "ok"]) == answered1 == kill1, "every answered call is on record"
        assert set(killed1.stage) == {"preflight", "translate"}

        # 2. re-run, killed mid-distill: it redoes only the translate calls that were never answered
        remaining_translate = by_stage["translate"] - (kill1 - 1)
        kill2 = 1 + remaining_translate + by_stage["distill"] // 2
        code, output, answered2 = _run(server, _config(tmp_path, make_config, server, "b", "killed2"), env, kill2)
        assert code == -signal.SIGKILL, output
        killed2 = _ledger(tmp_path / "b" / "work" / "runs" / "killed2")
        assert len(killed2[killed2.status == "ok"]) == answered2 == kill2
        assert (killed2[killed2.status == "ok"].stage == "translate").sum() == remaining_translate, "none paid twice"
        assert (killed2.stage == "distill").any()

        # 3. the final re-run finishes; across the three runs each call was answered once (plus one probe each)
        code, output, answered3 = _run(server, _config(tmp_path, make_config, server, "b", "final"), env, None)
        assert code == 0, output
        assert (answered1 - 1) + (answered2 - 1) + (answered3 - 1) == uninterrupted - 1
        uninterrupted_version = _version(_run_output_of(tmp_path, "a"))
        assert _version(output) == uninterrupted_version


def _run_output_of(tmp_path: Path, workdir: str) -> str:
    summary = next((tmp_path / workdir / "work" / "runs" / "whole").glob("summary.json"))
    import json

    return f"dataset: {json.loads(summary.read_text())['dataset_path']}"
