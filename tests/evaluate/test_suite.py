"""`magnet eval --suite bfcl-v3`: single-turn, relevance/irrelevance and multi-turn categories, BFCL's overall."""

from __future__ import annotations

import json
import re

import pandas as pd
from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_checker, multi_turn_utils
from scripted import oracle, script_rules
from single_turn_oracle import oracle_calls
from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.evaluate.bfcl_data import CATEGORIES, SINGLE_TURN_CATEGORIES, load_single_turn, sample_cases, sample_single_turn
from magnet_core.evaluate.replies import AssistantReply
from magnet_core.evaluate.single_turn import judge
from magnet_core.evaluate.summary import FULL_SIZES, bfcl_v3_summary
from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread

SAMPLE, SEED = 1, 3


def _single_turn_rules() -> tuple[ScriptRule, ...]:
    rules = {}
    for category in SINGLE_TURN_CATEGORIES:
        for case in sample_single_turn(category, SAMPLE, SEED):
            calls = tuple(oracle_calls(case))
            if not calls:
                continue
            pattern = re.escape("\n".join(str(m["content"]) for m in case.messages)) + r"\Z"
            assert rules.get(pattern, calls) == calls, case.case_id
            rules[pattern] = calls
    return tuple(ScriptRule(pattern=p, tool_calls=c, target="prompt") for p, c in rules.items())


def test_suite_oracle_scores_full_marks_on_every_category_and_prints_bfcl_overall(tmp_path, specs_by_name, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("BFCL's eval-based executor was called")

    monkeypatch.setattr(multi_turn_utils, "execute_multi_turn_func_call", refuse)
    monkeypatch.setattr(multi_turn_checker, "execute_multi_turn_func_call", refuse)
    multi = [case for category in CATEGORIES for case in sample_cases(category, SAMPLE, SEED)]
    rules = script_rules(multi, specs_by_name, oracle).script + _single_turn_rules()
    with FakeServerThread(FakeServerConfig(answers=AnswerRules(mode="script", script=rules))) as server:
        result = CliRunner().invoke(app, [
            "eval", "--output-dir", str(tmp_path), "--model", "openai/fake-model", "--api-base", server.url,
            "--suite", "bfcl-v3", "--sample", str(SAMPLE), "--seed", str(SEED), "--label", "oracle",
        ])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(tmp_path / "cases.parquet")
    assert set(table["category"]) == set(SINGLE_TURN_CATEGORIES) | set(CATEGORIES)
    assert len(table) == SAMPLE * (len(SINGLE_TURN_CATEGORIES) + len(CATEGORIES))
    assert table["valid"].all(), table.loc[~table["valid"], ["case_id", "error_type", "error_message"]].to_string()
    for category in (*SINGLE_TURN_CATEGORIES, *CATEGORIES):
        assert re.search(rf"^{category}\s+100\.00%  \({SAMPLE}/{SAMPLE}\)", result.output, re.M), category
    assert re.search(r"^overall \(BFCL-v3\)\s+100\.00%", result.output, re.M)
    report = (tmp_path / "report.md").read_text()
    assert "## BFCL-v3 overall" in report and "Magnet-14B-mDPO | 68.01" in report


def test_single_turn_judging_follows_bfcl_rules():
    case = load_single_turn("simple_python")[0]
    (name, params), = case.possible_answer[0].items()
    right = {"name": name, "arguments": oracle_calls(case)[0]["arguments"]}
    text = lambda call: "<tool_call>\n" + json.dumps(call) + "\n</tool_call>"  # noqa: E731
    assert judge(case, AssistantReply(content=text(right))).valid
    wrong = dict(right, arguments={**right["arguments"], next(iter(right["arguments"])): "nonsense"})
    assert not judge(case, AssistantReply(content=text(wrong))).valid
    assert judge(case, AssistantReply(content="<tool_call>" + json.dumps(right) + "</tool_call>")).error_type == "simple_function_checker:wrong_count"
    irrelevant = load_single_turn("irrelevance")[0]
    assert judge(irrelevant, AssistantReply(content="None of these functions fit.")).valid
    assert not judge(irrelevant, AssistantReply(content=text({"name": irrelevant.functions[0]["name"], "arguments": {}}))).valid


def test_overall_is_computed_the_bfcl_v3_way():
    assert {c: len(load_single_turn(c)) for c in SINGLE_TURN_CATEGORIES} == {c: FULL_SIZES[c] for c in SINGLE_TURN_CATEGORIES}
    scores = {c: 100.0 for c in FULL_SIZES}
    assert bfcl_v3_summary(scores)["overall"] == 100.0
    scores["simple_java"] = 0.0  # one of three simple languages, unweighted: non-live AST loses a twelfth
    summary = bfcl_v3_summary(scores)
    assert abs(summary["non_live_ast"] - (100 - 100 / 12)) < 1e-9 and abs(summary["non_live_overall"] - (100 - 100 / 15)) < 1e-9
    scores = {c: 100.0 for c in FULL_SIZES} | {"live_relevance": 0.0}  # live sections are weighted by size
    expected_live = 100 * (2251 - 16) / 2251
    assert abs(bfcl_v3_summary(scores)["live_overall"] - expected_live) < 1e-9
    assert abs(bfcl_v3_summary(scores)["overall"] - (expected_live + 200) / 3) < 1e-9
    only_multi = bfcl_v3_summary({c: 100.0 for c in CATEGORIES})
    assert abs(only_multi["overall"] - 100 / 3) < 1e-9  # categories not run count 0, as in BFCL
