"""Scripted models over real HTTP (litellm -> the project's fake server) against real BFCL backends."""

from __future__ import annotations

import pandas as pd
import pytest
from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_checker, multi_turn_utils
from scripted import calls_when_it_should_ask, drop_last_call, eval_config, first_turn, oracle

from magnet_core.evaluate.bfcl_data import CATEGORIES
from magnet_core.evaluate.checker import ASKED_NOTHING, EMPTY_TURN, FORCE_TERMINATED
from magnet_core.evaluate.runner import run_evaluation
from magnet_core.llm.fake_answers import AnswerRules, ScriptRule

TURN_FAILURES = {EMPTY_TURN, "multi_turn:instance_state_mismatch", "multi_turn:execution_response_mismatch"}


@pytest.fixture
def no_bfcl_eval_executor(monkeypatch):
    """BFCL's executor `eval()`s call strings; any use of it during an evaluation fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("BFCL's eval-based executor was called")

    monkeypatch.setattr(multi_turn_utils, "execute_multi_turn_func_call", refuse)
    monkeypatch.setattr(multi_turn_checker, "execute_multi_turn_func_call", refuse)


def _table(result) -> pd.DataFrame:
    return pd.read_parquet(result.cases_parquet).set_index("case_id")


def test_oracle_scores_full_marks_on_every_category(tmp_path, scripted_model, sampled_cases, no_bfcl_eval_executor):
    with scripted_model(oracle) as (server, model):
        result = run_evaluation(eval_config(tmp_path, model))
    assert result.complete and result.unfinished == 0
    assert [s.category for s in result.scores] == list(CATEGORIES)
    assert all(s.cases == 3 and s.correct == 3 for s in result.scores), result.scores
    assert result.overall == 100.0
    assert result.requests == server.stats.chat_requests > len(sampled_cases)
    table = _table(result)
    assert sorted(table.index) == sorted(case.case_id for case in sampled_cases)
    assert table["valid"].all() and table["failing_turn"].isna().all()
    assert (table["calls"] == [sum(len(t) for t in case.ground_truth) for case in sampled_cases]).all()
    report = result.report_md.read_text()
    assert "openai/fake-model" in report and "Magnet-14B-mDPO" in report and "| 100.00 |" in report
    assert result.chart_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dropping_the_last_call_fails_each_case_at_its_first_calling_turn(tmp_path, scripted_model, sampled_cases):
    with scripted_model(drop_last_call) as (_, model):
        result = run_evaluation(eval_config(tmp_path, model))
    assert all(s.correct == 0 for s in result.scores)
    table = _table(result)
    for case in sampled_cases:
        row = table.loc[case.case_id]
        turn = first_turn(case, asking=False)
        assert row["failing_turn"] == turn, case.case_id
        assert row["error_type"] in TURN_FAILURES
        if len(case.ground_truth[turn]) == 1:
            assert row["error_type"] == EMPTY_TURN


def test_calling_when_it_should_ask_fails_the_missing_function_and_parameter_cases(tmp_path, scripted_model, sampled_cases):
    with scripted_model(calls_when_it_should_ask) as (_, model):
        result = run_evaluation(eval_config(tmp_path, model))
    table = _table(result)
    for case in sampled_cases:
        row = table.loc[case.case_id]
        if any(not calls for calls in case.ground_truth):
            assert not row["valid"]
            assert row["error_type"] == ASKED_NOTHING
            assert row["failing_turn"] == first_turn(case, asking=True)
        else:
            assert row["valid"], case.case_id
    assert result.accuracy["miss_func"] == result.accuracy["miss_param"] == 0.0


def test_a_model_that_never_stops_calling_is_force_terminated(tmp_path, scripted_model, sampled_cases):
    base = [case for case in sampled_cases if case.category == "base"][:1]
    with scripted_model(oracle, base) as (server, model):
        server.server.configure(answers=AnswerRules(mode="script", script=(
            ScriptRule(pattern="", target="prompt", tool_calls=({"name": "pwd", "arguments": {}},)),)))
        result = run_evaluation(eval_config(tmp_path, model, categories=("base",), sample_size=1, max_steps_per_turn=2))
    row = _table(result).iloc[0]
    assert row["error_type"] == FORCE_TERMINATED and not row["valid"]
    assert row["steps"] == 3 and row["requests"] == 3 and row["force_terminated"]


def test_unreadable_calls_end_the_turn_with_a_recorded_reason(tmp_path, scripted_model, sampled_cases):
    base = [case for case in sampled_cases if case.category == "base"][:1]
    with scripted_model(oracle, base) as (server, model):
        server.server.configure(answers=AnswerRules(mode="script", script=(
            ScriptRule(pattern="", target="prompt", content="<tool_call>\n__import__('os').system('touch pwned')\n</tool_call>"),)))
        result = run_evaluation(eval_config(tmp_path, model, categories=("base",), sample_size=1))
    row = _table(result).iloc[0]
    assert not row["valid"] and row["error_type"] == EMPTY_TURN and row["failing_turn"] == 0
    assert row["parse_errors"] == row["steps"] == row["turns"] >= 3
    assert "unparsable calls" in row["episode"] and not (tmp_path / "pwned").exists()
