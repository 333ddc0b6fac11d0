"""`magnet eval`'s verdicts agree case by case with bfcl-eval's official multi-turn checker.

A seeded sample per category (the full 800 cases run in `benchmarks/eval_checker.py`), each with the
ground truth and every perturbation of `differential.perturbations`, judged both ways.
"""

from __future__ import annotations

from collections import Counter

import pytest
from differential import compare

from magnet_core.domain.calls import FunctionCall
from magnet_core.evaluate.bfcl_data import CATEGORIES, load_cases, sample_cases
from magnet_core.evaluate.environment import CaseEnvironment, bfcl_result_text

PER_CATEGORY = 10
SEED = 15


@pytest.fixture(scope="module")
def cases():
    chosen = [case for category in CATEGORIES for case in sample_cases(category, PER_CATEGORY, SEED)]
    with_log = [case for case in load_cases("base") if any(text.startswith("logarithm(") for turn in case.ground_truth for text in turn)]
    return chosen + [case for case in with_log[:2] if case not in chosen]


@pytest.mark.parametrize("check_ask_turns", [False, True])
def test_verdicts_agree_with_the_official_checker(cases, bfcl_pool, check_ask_turns):
    rows = compare(cases, list(bfcl_pool.specs), seed=SEED, check_ask_turns=check_ask_turns)
    disagreements = [row for row in rows if row["official"] != row["ours"]]
    assert len(rows) > 500
    assert 1 - len(disagreements) / len(rows) >= 0.995, disagreements[:10]
    kinds = Counter(row["answer"] for row in rows)
    for kind in ("truth_text", "number_as_text", "float_precision_nudge", "logarithm_value_probe", "text_no_newlines",
                 "text_bad_block_beside_good", "text_unterminated_last", "call_on_ask_turn"):
        assert kinds[kind] > 0, kind
    # The answers exercise both verdicts, so agreement is not agreement on a constant.
    official = Counter((row["answer"], row["official"]) for row in rows)
    assert official[("truth_fc", True)] == official[("truth_text", True)] == len(cases)
    assert official[("drop_call", False)] > 0 and official[("text_no_newlines", False)] > 0
    assert official[("text_bad_block_beside_good", True)] > 0 and official[("number_as_text", True)] > 0


def test_results_keep_full_precision_and_loose_types_run_as_in_bfcl(bfcl_pool):
    case = next(case for case in load_cases("base") if "MathAPI" in case.involved_classes)
    with CaseEnvironment(case, list(bfcl_pool.specs)) as env:
        texts = [bfcl_result_text(r) for r in env.execute([
            FunctionCall(name="logarithm", arguments={"value": 20, "base": 10, "precision": 2}),
            FunctionCall(name="logarithm", arguments={"value": 21, "base": 10, "precision": 2}),
            FunctionCall(name="add", arguments={"a": "2", "b": 3}),
            FunctionCall(name="add", arguments={"a": 2, "b": 3, "c": 1}),
            FunctionCall(name="no_such_function", arguments={}),
        ])]
    assert texts[0] == "{'result': mpf('1.3027')}" and texts[1] == "{'result': mpf('1.3223')}"  # str(dict), as BFCL
    assert texts[2] == '{"error": "Both inputs must be numbers"}'  # run by the backend, not refused by a schema
    assert texts[3].startswith("Error during execution:") and "unexpected keyword" in texts[3]
    assert texts[4] == "Error during execution: name 'no_such_function' is not defined"


def test_strict_schema_count_sits_beside_the_bfcl_verdict(bfcl_pool, specs_by_name):
    from magnet_core.evaluate.checker import check_case
    from magnet_core.evaluate.ground_truth import parse_ground_truth_turns

    specs = list(bfcl_pool.specs)
    for case in load_cases("base"):
        truth = parse_ground_truth_turns(case.ground_truth, specs_by_name)
        spot = next(((t, c, k) for t, turn in enumerate(truth) for c, call in enumerate(turn)
                     for k, v in call.arguments.items() if type(v) is float), None)
        if spot is None:
            continue
        t, c, k = spot
        loose = [list(turn) for turn in truth]
        loose[t][c] = FunctionCall(name=loose[t][c].name, arguments={**loose[t][c].arguments, k: str(truth[t][c].arguments[k])})
        verdict = check_case(case, [[turn] if turn else [] for turn in loose], truth, specs)
        exact = check_case(case, [[turn] if turn else [] for turn in truth], truth, specs)
        if verdict.valid:  # BFCL accepted the number sent as text; strict-schema does not
            assert verdict.schema_violations == 1 and exact.valid and exact.schema_violations == 0
            return
    raise AssertionError("no case where a float sent as text still passes")
