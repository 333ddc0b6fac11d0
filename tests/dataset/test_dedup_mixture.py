"""Planted duplicates are removed with a reason; the mixture meets its target within one per category."""

from __future__ import annotations

import random

import pytest

from magnet_core.dataset.config import MixtureTarget
from magnet_core.dataset.dedup import deduplicate
from magnet_core.dataset.loading import read_rejects, read_trajectories
from magnet_core.dataset.mixture import apply_mixture
from magnet_core.dataset.stage import assemble_dataset


def test_planted_exact_and_near_duplicates_are_removed(build, make_config):
    long_query = " ".join(build.distinct_query(n) for n in range(500, 503))  # ~36 words
    original = build.trajectory("aa-original", "multi_turn", [long_query])
    clean = [original, *build.pool({"multi_turn": 4, "single": 4})]
    exact = original.model_copy(update={"trajectory_id": "zz-exact-copy"})
    words = long_query.split()
    near_text = " ".join(words[:-1] + [words[-1] + "x"]) + " now!"  # last word altered, one word added
    near = build.trajectory("zz-near-copy", "multi_turn", [near_text])
    loose = build.trajectory("zz-unrelated", "multi_turn", [" ".join(reversed(words))])  # same words, other order

    kept, rejects = deduplicate([*clean, exact, near, loose], build.dedup())
    assert {r.item_id: r.reason for r in rejects} == {"zz-exact-copy": "duplicate_exact", "zz-near-copy": "duplicate_near"}
    assert all(original.trajectory_id in r.detail for r in rejects)
    assert len(kept) == len(clean) + 1

    shuffled = [*clean, exact, near, loose]
    random.Random(3).shuffle(shuffled)
    kept_again, _ = deduplicate(shuffled, build.dedup())
    assert kept_again == kept  # the surviving copy does not depend on input order

    version = assemble_dataset([*clean, exact, near, loose], [], [], make_config(mixture=build.all_ratios, decontamination={"enabled": False}))
    stored = {row["item_id"]: row["reason"] for row in read_rejects(version.path) if row["stage"] == "dedup"}
    assert stored == {"zz-exact-copy": "duplicate_exact", "zz-near-copy": "duplicate_near"}
    assert version.rejects_by_reason["dedup/duplicate_exact"] == 1


AVAILABLE = [
    {"single": 40, "parallel": 25, "multiple": 30, "multi_turn": 33, "irrelevance": 11},
    {"single": 7, "parallel": 7, "multiple": 7, "multi_turn": 50, "irrelevance": 50},
    {"single": 100, "parallel": 3, "multiple": 100, "multi_turn": 100, "irrelevance": 100},
]


@pytest.mark.parametrize("available", AVAILABLE)
def test_paper_ratio_mixture_within_one_sample_per_category(build, available):
    target = MixtureTarget.paper_ratios()
    selected, surplus, report = apply_mixture(build.pool(available), target, seed=5)
    total = len(selected)
    assert total > 0 and len(selected) + len(surplus) == sum(available.values())
    share_sum = sum(target.targets.values())
    for row in report:
        ideal = total * target.targets[row.category] / share_sum
        assert abs(row.achieved - ideal) < 1.0, row
        assert row.achieved <= available[row.category]
        assert sum(1 for s in selected if s.metadata["category"] == row.category) == row.achieved
    # the binding category is (nearly) used up: no smaller total than feasible was chosen
    assert any(row.achieved >= row.available - 1 for row in report)
    irrelevance = next(row for row in report if row.category == "irrelevance")
    assert 0.15 <= target.targets["irrelevance"] / share_sum <= 0.17
    assert abs(irrelevance.achieved_share - 0.16) <= 1.0 / total + 1e-9


def test_mixture_is_reproducible_under_a_seed_and_counts_are_capped(build):
    samples = build.pool({"single": 30, "multi_turn": 30, "irrelevance": 30})
    target = MixtureTarget.counts(single=10, multi_turn=5, irrelevance=40)
    first, surplus, report = apply_mixture(samples, target, seed=1)
    again, _, _ = apply_mixture(list(reversed(samples)), target, seed=1)
    other, _, _ = apply_mixture(samples, target, seed=2)
    assert [s.trajectory_id for s in first] == [s.trajectory_id for s in again]
    assert {s.trajectory_id for s in first} != {s.trajectory_id for s in other}
    achieved = {row.category: row.achieved for row in report}
    assert achieved == {"single": 10, "multi_turn": 5, "irrelevance": 30}
    assert "short by 10" in next(row.note for row in report if row.category == "irrelevance")
    assert {r.reason for r in surplus} == {"mixture_surplus"} and len(surplus) == 45


def test_missing_category_is_reported_not_fatal(build, make_config):
    samples = build.pool({"single": 6, "multi_turn": 6})  # no irrelevance, no parallel/multiple
    version = assemble_dataset(samples, [], [], make_config(decontamination={"enabled": False}))
    rows = {row.category: row for row in version.mixture}
    assert rows["irrelevance"].achieved == 0 and "no samples available" in rows["irrelevance"].note
    assert rows["single"].achieved + rows["multi_turn"].achieved == version.counts["sft"] > 0
    assert len(read_trajectories(version.path)) == version.counts["sft"]
    assert sum(version.rejects_by_reason.values()) == 12 - version.counts["sft"]


def test_pairs_with_one_prompt_and_different_mistakes_are_kept(build):
    first = build.pair("pair-1")
    same_mistake = first.model_copy(update={"pair_id": "pair-2"})
    other = first.rejected[0].tool_calls[0].model_copy(update={"function": first.rejected[0].tool_calls[0].function.model_copy(update={"arguments": {"city": "Bern"}})})
    other_mistake = first.model_copy(update={"pair_id": "pair-3", "rejected": (first.rejected[0].model_copy(update={"tool_calls": (other,)}),)})
    kept, rejects = deduplicate([first, same_mistake, other_mistake], build.dedup())
    assert [p.pair_id for p in kept] == ["pair-1", "pair-3"]
    assert [(r.item_id, r.reason) for r in rejects] == [("pair-2", "duplicate_exact")]


@pytest.mark.parametrize("bad", [{"mode": "ratios", "targets": {}}, {"mode": "ratios", "targets": {"chit_chat": 1}},
                                 {"mode": "counts", "targets": {"single": 2.5}}, {"mode": "ratios", "targets": {"single": 0}}])
def test_bad_mixture_targets_are_refused_with_a_clear_error(bad):
    with pytest.raises(ValueError):
        MixtureTarget(**bad)


def test_preference_mixture_follows_the_paper_pair_ratios(build, make_config):
    pairs = [build.pair(f"pair-{category}-{i}", category) for category in ("multi_turn", "single", "irrelevance") for i in range(12)]
    config = make_config(mixture=build.all_ratios, preference_mixture=MixtureTarget.paper_preference_ratios(), decontamination={"enabled": False})
    version = assemble_dataset(build.pool({"single": 2}), pairs, [], config)
    rows = {row.category: row for row in version.preference_mixture}
    assert rows["multi_turn"].achieved == 12  # the most-wanted category binds
    for row in version.preference_mixture:
        assert abs(row.achieved - row.target_count) < 1.0, row
    assert version.counts["preference"] == sum(row.achieved for row in version.preference_mixture)
