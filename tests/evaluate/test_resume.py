"""An interrupted evaluation resumes: finished cases are not asked again; cached steps are free."""

from __future__ import annotations

import shutil

import pandas as pd
from scripted import eval_config, oracle

from magnet_core.evaluate.runner import run_evaluation

SUBSET = dict(categories=("base", "miss_param"), concurrency=1)


def test_interrupted_run_resumes_without_re_requesting_finished_cases(tmp_path, scripted_model):
    with scripted_model(oracle) as (server, model):
        full = run_evaluation(eval_config(tmp_path / "full", model, **SUBSET))
        full_requests = server.stats.chat_requests

        server.server.reset()
        partial = run_evaluation(eval_config(tmp_path / "resumed", model, max_new_cases=2, **SUBSET))
        first_requests = server.stats.chat_requests
        assert not partial.complete and partial.unfinished == 4
        finished = sorted((tmp_path / "resumed" / "cases").glob("*.json"))
        assert len(finished) == 2
        stamps = {path.name: path.stat().st_mtime_ns for path in finished}

        # The rerun gets a fresh, empty cache: every request it makes reaches the server, so the count
        # shows exactly which cases it ran.
        server.server.reset()
        resumed = run_evaluation(eval_config(tmp_path / "resumed", model, cache_dir=tmp_path / "fresh-cache", **SUBSET))
        second_requests = server.stats.chat_requests

    assert 0 < first_requests < full_requests and 0 < second_requests < full_requests
    assert first_requests + second_requests == full_requests
    assert resumed.complete and resumed.accuracy == full.accuracy == {"base": 100.0, "miss_param": 100.0}
    assert {path.name: path.stat().st_mtime_ns for path in finished} == stamps
    assert len(pd.read_parquet(resumed.cases_parquet)) == 6


def test_rerun_without_records_is_served_from_the_llm_cache(tmp_path, scripted_model):
    with scripted_model(oracle) as (server, model):
        config = eval_config(tmp_path, model, **SUBSET)
        first = run_evaluation(config)
        shutil.rmtree(tmp_path / "cases")
        server.server.reset()
        again = run_evaluation(config)
        assert server.stats.chat_requests == 0
    assert again.accuracy == first.accuracy
    assert again.requests == again.cached_requests == first.requests > 0
    assert again.cost_usd == 0.0


def test_cases_the_endpoint_refused_are_reported_and_retried_on_rerun(tmp_path, scripted_model, monkeypatch):
    with scripted_model(oracle) as (server, model):
        server.server.configure(api_key="right-key")
        monkeypatch.setenv("EVAL_TEST_KEY", "wrong-key")
        keyed = model.model_copy(update={"api_key_env": "EVAL_TEST_KEY"})
        config = eval_config(tmp_path, keyed, categories=("base",), sample_size=2)
        refused = run_evaluation(config)
        table = pd.read_parquet(refused.cases_parquet)
        assert not refused.complete and refused.accuracy == {"base": 0.0}
        assert (table["error_type"] == "multi_turn:inference_error").all()
        assert table["error_message"].str.contains("401|auth|key", case=False).all()
        assert "wrong-key" not in refused.report_md.read_text() + "".join(table["error_message"])
        assert not list((tmp_path / "cases").glob("*.json"))

        monkeypatch.setenv("EVAL_TEST_KEY", "right-key")
        accepted = run_evaluation(config)
    assert accepted.complete and accepted.accuracy == {"base": 100.0}
