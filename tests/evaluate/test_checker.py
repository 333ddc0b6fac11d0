"""The verdict on hand-made call sequences, and BFCL's tool-list rules for withheld functions."""

from __future__ import annotations

from magnet_core.domain.calls import FunctionCall
from magnet_core.evaluate.bfcl_data import load_cases, sample_cases
from magnet_core.evaluate.checker import ASKED_NOTHING, EMPTY_TURN, FORCE_TERMINATED, check_case
from magnet_core.evaluate.environment import offered_specs
from magnet_core.evaluate.ground_truth import parse_ground_truth_call, parse_ground_truth_turns


def _case_with_writes(category="base"):
    """A case whose first turn changes file-system state with an argument we can alter."""
    for case in load_cases(category):
        if "GorillaFileSystem" in case.involved_classes and any(c.startswith("mkdir(") for c in case.ground_truth[0]):
            return case
    raise AssertionError("no such case")


def test_a_wrong_argument_value_is_a_state_mismatch_at_that_turn(bfcl_pool, specs_by_name):
    case = _case_with_writes()
    truth = parse_ground_truth_turns(case.ground_truth, specs_by_name)
    wrong = [list(turn) for turn in truth]
    index = next(i for i, call in enumerate(wrong[0]) if call.name == "mkdir")
    wrong[0][index] = FunctionCall(name="mkdir", arguments={"dir_name": "not_what_was_asked"})
    verdict = check_case(case, [[turn] if turn else [] for turn in wrong], truth, list(bfcl_pool.specs))
    assert not verdict.valid and verdict.failing_turn == 0
    assert verdict.error_type == "multi_turn:instance_state_mismatch" and "not_what_was_asked" in verdict.details
    assert check_case(case, [[turn] if turn else [] for turn in truth], truth, list(bfcl_pool.specs)).valid


def test_calls_split_over_steps_and_turns_are_judged_like_bfcl(bfcl_pool, specs_by_name):
    case = _case_with_writes()
    truth = parse_ground_truth_turns(case.ground_truth, specs_by_name)
    one_call_per_step = [[[call] for call in turn] for turn in truth]
    assert check_case(case, one_call_per_step, truth, list(bfcl_pool.specs)).valid
    stopped = check_case(case, one_call_per_step[:1], truth, list(bfcl_pool.specs))
    assert stopped.error_type == FORCE_TERMINATED
    silent = check_case(case, [[] for _ in truth], truth, list(bfcl_pool.specs))
    assert silent.error_type == EMPTY_TURN and silent.failing_turn == 0


def test_ask_turn_check_can_be_switched_off(bfcl_pool, specs_by_name):
    case = sample_cases("miss_param", 1, 0)[0]
    truth = parse_ground_truth_turns(case.ground_truth, specs_by_name)
    ask = next(i for i, turn in enumerate(truth) if not turn)
    later = next(turn for turn in truth[ask + 1:] if turn)
    guessed = [[turn] if turn else [] for turn in truth]
    guessed[ask] = [[FunctionCall(name="pwd", arguments={})] if later[0].name != "pwd" else [later[0]]]
    assert check_case(case, guessed, truth, list(bfcl_pool.specs)).error_type == ASKED_NOTHING
    assert check_case(case, guessed, truth, list(bfcl_pool.specs), check_ask_turns=False).error_type != ASKED_NOTHING


def test_withheld_functions_are_offered_from_their_holdout_turn(bfcl_pool):
    case = sample_cases("miss_func", 1, 0)[0]
    (turn, names), = case.missed_function.items()
    specs = list(bfcl_pool.specs)
    before = {spec.name for spec in offered_specs(case, specs, turn - 1)}
    after = [spec.name for spec in offered_specs(case, specs, turn)]
    assert not set(names) & before and after[-len(names):] == list(names)
    assert set(after) == before | set(names)


def test_positional_ground_truth_is_rewritten_to_keywords(specs_by_name):
    call = parse_ground_truth_call("sort('final_report.pdf')", specs_by_name)
    assert call == FunctionCall(name="sort", arguments={"file_name": "final_report.pdf"})
