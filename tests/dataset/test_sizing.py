"""Issue 12: a size target becomes per-category counts and stage sizes; the mixture reports surplus and shortfall."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from magnet_core.dataset import sizing
from magnet_core.dataset.config import DatasetTarget, MixtureTarget
from magnet_core.dataset.mixture import _report


def test_paper_size_splits_into_the_paper_counts_exactly():
    target = DatasetTarget(sft_rows=34_000, preference_pairs=4_556)
    sft, pref = target.sft_category_counts(), target.preference_category_counts()
    assert sft["multi_turn"] == 7_800 and sft["irrelevance"] == 6_200
    assert sft["single"] + sft["parallel"] + sft["multiple"] == 20_000 and sum(sft.values()) == 34_000
    assert pref["multi_turn"] == 2_250 and pref["irrelevance"] == 750
    assert pref["single"] + pref["parallel"] + pref["multiple"] == 1_556


@pytest.mark.parametrize("raw", [{}, {"sft_rows": 10, "sft_counts": {"single": 1}}, {"sft_counts": {"chitchat": 3}},
                                 {"preference_counts": {"single": -1}}])
def test_unclear_targets_are_refused(raw):
    with pytest.raises(ValidationError):
        DatasetTarget(**raw)


def test_request_over_generates_by_the_yield_and_margin():
    yields = sizing.Yields(multi_turn_per_path=2.0, multi_turn_pairs_per_path=4.0,
                           samples={k: 0.5 for k in sizing.KINDS}, pairs={k: 0.25 for k in sizing.KINDS})
    request = sizing.request_for({"multi_turn": 100, "single": 10}, {"multi_turn": 100, "irrelevance": 10}, yields, 0.1)
    assert request.paths == 55  # rows: 100 * 1.1 / 2 = 55 paths; pairs: 100 * 1.1 / 4 = 27.5
    assert request.samples["single"] == 22 and request.pairs["irrelevance"] == 44
    assert request.samples["irrelevance"] == 44  # a pair needs its sample


def test_top_up_asks_only_for_the_short_categories_and_stops_at_exhausted_ones():
    asked = sizing.Request(paths=50, samples={"single": 100, "parallel": 100}, pairs={})
    now = sizing.Measure(sft={"multi_turn": 60, "single": 40, "parallel": 1}, pref={}, asked=asked)
    request, notes = sizing.top_up({"multi_turn": 60, "single": 80, "parallel": 80}, {}, now, 0.0)
    assert request.paths == 0
    assert request.samples["single"] == 100  # 40 short at the measured 0.4 per sample
    assert request.samples["parallel"] == 0 and "exhausted" in notes["parallel"]


def test_a_later_top_up_uses_the_marginal_yield_of_a_pool_running_dry():
    earlier = sizing.Measure(sft={"single": 40}, pref={}, asked=sizing.Request(samples={"single": 100}))
    now = sizing.Measure(sft={"single": 50}, pref={}, asked=sizing.Request(samples={"single": 200}))
    request, _ = sizing.top_up({"single": 60}, {}, now, 0.0, earlier)
    assert request.samples["single"] == 100  # 10 short at 10 new per 100 asked (the average, 0.25, would ask 40)


def test_without_a_target_the_ratio_mixture_is_sized_to_keep_every_multi_turn_row():
    wanted = sizing.implied_counts(MixtureTarget.paper_ratios(), 300)
    assert wanted["multi_turn"] == 300
    assert wanted["irrelevance"] == pytest.approx(300 * 0.16 / MixtureTarget.paper_ratios().targets["multi_turn"], abs=1)


def test_mixture_rows_name_every_surplus_and_shortfall():
    rows = {row.category: row for row in _report({"single": 10.0, "multi_turn": 5.0}, {"single": 4, "multi_turn": 9, "irrelevance": 2},
                                                  {"single": 4, "multi_turn": 5}, {"single": 10.0, "multi_turn": 5.0}, set(), "counts")}
    assert (rows["single"].shortfall, rows["single"].surplus, rows["single"].note) == (6, 0, "short by 6")
    assert (rows["multi_turn"].shortfall, rows["multi_turn"].surplus, rows["multi_turn"].note) == (0, 4, "surplus 4 not kept")
    assert rows["irrelevance"].surplus == 2 and "not in the target" in rows["irrelevance"].note
