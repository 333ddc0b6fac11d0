"""Issue 12: single-turn pairs for every kind, top-up ranges, and one bad sample is only its own reject."""

from __future__ import annotations

import sys
import textwrap

from magnet_core.distill.single_turn import SingleTurnConfig, generate_single_turn
from magnet_core.execution.executor import CallExecutor
from magnet_core.domain.calls import FunctionCall
from magnet_core.pools import load_pool

ONLY = {"single": 0, "parallel": 0, "multiple": 0, "irrelevance": 0}


def test_power_with_a_huge_result_is_one_failed_call_not_a_crash(bfcl_pool):
    with CallExecutor(bfcl_pool.new_session(["MathAPI.power"])) as executor:
        result = executor.execute(FunctionCall(name="power", arguments={"base": 180, "exponent": 7200}))
    assert not result.ok and "output not serialisable" in result.error


def test_the_irrelevance_sample_that_drafts_power_180_7200_no_longer_kills_the_task(bfcl_pool):
    # seed 0, irrelevance index 2581 drafts power(base=180, exponent=7200) (issue 12): its neighbours still come out
    result = generate_single_turn(bfcl_pool, SingleTurnConfig(**{**ONLY, "irrelevance": 3}, start=2580))
    ids = sorted([t.trajectory_id for t in result.trajectories] + [r.item_id for r in result.rejects])
    assert ids == ["irrelevance-0-2580", "irrelevance-0-2581", "irrelevance-0-2582"]


def test_pairs_for_every_kind_from_the_first_samples_of_the_range(bfcl_pool):
    config = SingleTurnConfig(single=6, parallel=6, multiple=6, irrelevance=6, start=10,
                              pairs={"single": 4, "parallel": 4, "multiple": 4, "irrelevance": 4})
    result = generate_single_turn(bfcl_pool, config)
    assert all(int(t.trajectory_id.rsplit("-", 1)[1]) in range(10, 16) for t in result.trajectories)
    by_kind = {}
    for pair in result.pairs:
        by_kind.setdefault(pair.metadata["category"], []).append(pair)
        assert int(pair.scenario_id.rsplit("-", 1)[1]) in range(10, 14)  # from the first four samples of each kind
        assert pair.chosen != pair.rejected and pair.prompt[-1].role == "user"
        assert pair.metadata["negative_source"] == "synthetic"
    assert set(by_kind) == {"single", "parallel", "multiple", "irrelevance"}
    assert by_kind["irrelevance"][0].rejected[0].tool_calls and not by_kind["irrelevance"][0].chosen[0].tool_calls
    assert by_kind["parallel"][0].error_type == "missing_parallel_call"
    assert len(by_kind["parallel"][0].rejected[0].tool_calls) == len(by_kind["parallel"][0].chosen[0].tool_calls) - 1


def test_a_backend_that_breaks_while_its_output_is_serialised_costs_one_sample(tmp_path, monkeypatch):
    (tmp_path / "fragile_tools.py").write_text(textwrap.dedent('''
        class Unprintable:
            def __str__(self):
                raise RuntimeError("cannot print this value")


        def lookup(key: int) -> dict:
            """Look a key up.

            Args:
                key: the key
            Returns:
                the value
            """
            return {"value": Unprintable()} if key % 2 else {"value": key}
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fragile_tools", raising=False)
    pool = load_pool("python", "fragile_tools")
    result = generate_single_turn(pool, SingleTurnConfig(**{**ONLY, "single": 12}))
    errors = [r for r in result.rejects if r.reason == "sample_error"]
    assert result.trajectories and errors, result.summary()
    assert all("RuntimeError: cannot print this value" in r.detail for r in errors)
    assert len(result.trajectories) + len(result.rejects) == 12
