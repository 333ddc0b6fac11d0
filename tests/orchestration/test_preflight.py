"""Preflight over real HTTP: a bad key, an unknown model or a dead server stops `magnet run` at once.

The teacher is the project's fake OpenAI-compatible server reached by real litellm; `magnet run` is the
real CLI (typer) on embedded Prefect. A failed run must exit non-zero within seconds, start no stage and
cache nothing, so that the run after the fix does all the work.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread

from .test_roles_this_run import TOOLS as UNLABELLED_TOOLS

KEY_ENV = "MAGNET_TEST_PREFLIGHT_KEY"


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there once the socket is closed


def _write_config(tmp_path, make_config, model: dict, **changes) -> str:
    config = make_config(tmp_path, max_plans=2, shard_size=4,
                         single_turn={"single": 1, "parallel": 0, "multiple": 0, "irrelevance": 0},
                         models={"teacher": {"max_retries": 6, "timeout_s": 20.0, **model}}, **changes)
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return str(path)


def _run(path: str):
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["run", "--config", path])
    return result, time.perf_counter() - started


@pytest.mark.parametrize("case", ["missing_key", "wrong_key", "unknown_model", "unreachable"])
def test_a_broken_teacher_fails_the_run_at_once_and_the_fixed_rerun_succeeds(prefect_harness, tmp_path, make_config,
                                                                              monkeypatch, case):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with FakeServerThread(FakeServerConfig(api_key="sk-right-key", known_models=("fake-model",),
                                           answers=__import__("magnet_core.llm.fake_answers", fromlist=["x"]).AnswerRules(mode="hint"))) as server:
        good = {"model": "openai/fake-model", "api_base": server.url, "api_key_env": KEY_ENV}
        broken = dict(good)
        if case == "wrong_key":
            monkeypatch.setenv(KEY_ENV, "sk-wrong-key")
        elif case != "missing_key":
            monkeypatch.setenv(KEY_ENV, "sk-right-key")
        if case == "unknown_model":
            broken["model"] = "openai/no-such-model"
        if case == "unreachable":
            broken["api_base"] = _closed_port_url()

        result, elapsed = _run(_write_config(tmp_path, make_config, broken))
        assert result.exit_code != 0, result.output
        print(f"preflight {case}: run failed in {elapsed:.1f}s")
        assert elapsed < 30, f"failed after {elapsed:.0f}s: no retry loop on a permanent error"
        assert "preflight failed, no stage was started" in result.output
        expected = {"missing_key": KEY_ENV, "wrong_key": "HTTP 401", "unknown_model": "HTTP 404",
                    "unreachable": "server unreachable"}[case]
        assert expected in result.output, result.output
        assert "sk-right-key" not in result.output and "sk-wrong-key" not in result.output
        assert server.stats.chat_requests == (0 if case in ("missing_key", "unreachable") else 1), "one probe, no retries"
        work = tmp_path / "work"
        assert not (work / "artifacts").exists() or not any((work / "artifacts").rglob("*.json")), "no stage ran"
        assert not (work / "llm-cache").exists() or not any((work / "llm-cache").rglob("*.json")), "nothing cached"
        ledger = [json.loads(line) for p in work.glob("runs/*/ledger/*.jsonl") for line in p.read_text().splitlines()]
        assert not ledger, "the probe's record went into a Parquet part, not a stray journal"

        monkeypatch.setenv(KEY_ENV, "sk-right-key")
        fixed, _ = _run(_write_config(tmp_path, make_config, good))
        assert fixed.exit_code == 0, fixed.output
        assert server.stats.chat_requests > 2, "the fixed run did the stages' work over HTTP"
        import pandas as pd

        rejects = pd.concat([pd.read_parquet(p) for p in (tmp_path / "data").glob("v*/rejects/*.parquet")])
        assert not (rejects["reason"] == "llm_error").any()


def test_a_key_refused_mid_stage_aborts_the_stage_instead_of_rejecting_items(bfcl_pool_small):
    """Permanent setup errors are never item rejects (which would be cached): the stage raises."""
    from magnet_core.distill.stage import DistillConfig, distill
    from magnet_core.llm.client import LLMClient
    from magnet_core.llm.types import LLMSetupError, ModelConfig
    from magnet_core.roles.llm_role import RoleModels
    from magnet_core.translate.models import TranslateConfig
    from magnet_core.translate.stage import translate_plans

    pool, plans = bfcl_pool_small
    with FakeServerThread(FakeServerConfig(api_key="sk-right-key")) as server:
        model = ModelConfig(model="openai/fake-model", api_base=server.url, api_key_env=KEY_ENV, max_retries=0)
        import os

        os.environ[KEY_ENV] = "sk-revoked"
        try:
            with pytest.raises(LLMSetupError, match="HTTP 401"):
                translate_plans(pool, plans, TranslateConfig(models=RoleModels(query_writer=model)), client=LLMClient())
            offline = translate_plans(pool, plans, TranslateConfig())
            with pytest.raises(LLMSetupError, match="HTTP 401"):
                distill(pool, offline.translated[:1], DistillConfig(models=RoleModels(teacher=model)), client=LLMClient())
        finally:
            os.environ.pop(KEY_ENV, None)


@pytest.fixture()
def bfcl_pool_small():
    from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig, build_graph, sample_plans
    from magnet_core.pools import load_pool

    pool = load_pool("bfcl", None)
    plans = sample_plans(build_graph(pool, GraphStageConfig()), pool, PlanStageConfig(max_plans=2))
    return pool, plans[:2]


REPO = Path(__file__).resolve().parents[2]


def _cli_run(config_path: str, env: dict, *extra: str) -> subprocess.CompletedProcess:
    """`magnet run` as a user runs it: its own process, the output a terminal would show."""
    return subprocess.run([sys.executable, "-m", "magnet_core.cli.main", "run", "--config", config_path, *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", ["missing_key", "unreachable", "revoked_mid_run"])
def test_a_setup_failure_ends_the_cli_in_one_message_without_a_traceback(prefect_harness, tmp_path, make_config, case):
    """Issue 11: the user sees which model/alias failed and why, and a non-zero exit; no Prefect stack."""
    env = {k: v for k, v in os.environ.items() if k not in (KEY_ENV, "MAGNET_DEBUG")}
    env.update(PREFECT_API_URL=prefect_harness, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    if case != "missing_key":
        env[KEY_ENV] = "sk-right-key"
    revoked, changes = {}, {}
    if case == "revoked_mid_run":  # the probe passes, then every call is refused: the labeller (a task without
        # retries, whose failure Prefect's task engine logs with a traceback) meets the refusal first
        revoked = {"schedule": (None,), "fault_rates": (("revoked_key", 1.0),)}
        pool_file = tmp_path / "tools.json"
        pool_file.write_text(json.dumps(UNLABELLED_TOOLS))
        changes = {"pool": {"kind": "openai-json", "source": str(pool_file)}}
    with FakeServerThread(FakeServerConfig(api_key="sk-right-key", **revoked)) as server:
        model = {"model": "openai/fake-model", "api_base": _closed_port_url() if case == "unreachable" else server.url,
                 "api_key_env": KEY_ENV, "max_retries": 0}
        result = _cli_run(_write_config(tmp_path, make_config, model, **changes), env, "--no-train")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    expected = {"missing_key": f"environment variable {KEY_ENV} (api_key_env) is not set",
                "unreachable": "server unreachable", "revoked_mid_run": "HTTP 401"}[case]
    assert expected in result.stderr and "openai/fake-model" in result.stderr, output
    if case == "revoked_mid_run":
        assert "failed its setup mid-run" in result.stderr and server.stats.chat_requests > 1
    else:
        assert "preflight failed, no stage was started" in result.stderr and "models.teacher" in result.stderr
    assert "sk-right-key" not in output


def test_debug_keeps_the_traceback_of_a_setup_failure(prefect_harness, tmp_path, make_config):
    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    env.update(PREFECT_API_URL=prefect_harness, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    model = {"model": "openai/fake-model", "api_base": _closed_port_url(), "api_key_env": KEY_ENV, "max_retries": 0}
    result = _cli_run(_write_config(tmp_path, make_config, model), env, "--no-train", "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr and "PreflightError" in result.stderr
