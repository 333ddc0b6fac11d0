"""Planted BFCL test questions and ground-truth call sequences are caught and kept as rejects."""

from __future__ import annotations

import json

from magnet_core.dataset.intake import without_accounting
from magnet_core.dataset.rows import trajectory_from_row

from magnet_core.dataset.bfcl_index import bfcl_data_dir, load_index
from magnet_core.dataset.config import DecontamConfig
from magnet_core.dataset.decontaminate import decontaminate
from magnet_core.dataset.loading import read_rejects
from magnet_core.dataset.stage import assemble_dataset
from magnet_core.domain import FunctionCall


def _first_record(name: str) -> dict:
    with open(bfcl_data_dir() / name, encoding="utf-8") as handle:
        return json.loads(handle.readline())


def test_planted_bfcl_question_and_call_sequences_are_removed(build, make_config):
    question = _first_record("BFCL_v4_multi_turn_base.json")["question"][0][0]["content"]
    reworded = "Hey assistant! " + question  # a prefix does not hide the overlap
    planted_question = build.trajectory("mt-planted-q", "multi_turn", [reworded, build.distinct_query(901)])
    # multi_turn_base_1's ground truth, as our own calls (BFCL's ground truth has no tool-class prefix)
    truth = [[FunctionCall(name="ls", arguments={"a": True})],
             [FunctionCall(name="cd", arguments={"folder": "workspace"}), FunctionCall(name="mv", arguments={"source": "log.txt", "destination": "archive"})],
             [FunctionCall(name="cd", arguments={"folder": "archive"}), FunctionCall(name="grep", arguments={"file_name": "log.txt", "pattern": "Error"})],
             [FunctionCall(name="tail", arguments={"file_name": "log.txt", "lines": 20.0})]]
    planted_calls = build.trajectory("mt-planted-calls", "multi_turn", [build.distinct_query(n) for n in (902, 903, 904, 905)], truth)
    # simple_python_0: calculate_triangle_area(base=10, height=5), `unit` optional there
    planted_single = build.trajectory("single-planted", "single", [build.distinct_query(906)], [[FunctionCall(name="calculate_triangle_area", arguments={"base": 10, "height": 5})]])
    near_miss = build.trajectory("single-clean", "single", [build.distinct_query(907)], [[FunctionCall(name="calculate_triangle_area", arguments={"base": 11, "height": 5})]])
    clean = build.pool({"multi_turn": 3, "single": 3, "irrelevance": 2})

    config = make_config(mixture=build.all_ratios)
    version = assemble_dataset([*clean, planted_question, planted_calls, planted_single, near_miss], [], [], config)

    rejects = {row["item_id"]: row for row in read_rejects(version.path) if row["stage"] == "decontaminate"}
    assert set(rejects) == {"mt-planted-q", "mt-planted-calls", "single-planted"}
    assert rejects["mt-planted-q"]["reason"] == "bfcl_question_overlap"
    assert "multi_turn_base_0" in rejects["mt-planted-q"]["detail"]
    assert rejects["mt-planted-calls"]["reason"] == "bfcl_call_sequence"
    assert rejects["single-planted"]["reason"] == "bfcl_call_sequence" and "simple_python_0" in rejects["single-planted"]["detail"]
    payload = json.loads(rejects["mt-planted-q"]["payload"])
    assert payload["kind"] == "trajectory"  # the removed sample is kept whole, as the row it would have had
    assert trajectory_from_row(payload["row"]) == without_accounting(planted_question)  # restorable as it was stored
    assert version.rejects_by_reason["decontaminate/bfcl_question_overlap"] == 1
    assert version.rejects_by_reason["decontaminate/bfcl_call_sequence"] == 2


def test_index_is_cached_on_disk_and_reloads_identically(tmp_path):
    first = load_index(9, tmp_path)  # an n no other test uses, so it is built here
    cached = list(tmp_path.glob("bfcl-index-v*-n9-*.json.gz"))
    assert len(cached) == 1
    from magnet_core.dataset import bfcl_index

    bfcl_index._MEMORY.clear()
    second = load_index(9, tmp_path)
    assert second.gram_to_id == first.gram_to_id and second.sequence_to_id == first.sequence_to_id
    assert len(first.gram_to_id) > 10_000 and len(first.sequence_to_id) > 100


def test_pairs_are_decontaminated_too(build, index_cache):
    question = _first_record("BFCL_v4_simple_python.json")["question"][0][0]["content"]
    pair = build.pair("pair-planted")
    prompt = (pair.prompt[0], pair.prompt[1].model_copy(update={"content": question}))
    planted = pair.model_copy(update={"prompt": prompt})
    kept, rejects = decontaminate([build.pair("pair-clean"), planted], load_index(8, index_cache), DecontamConfig())
    assert [p.pair_id for p in kept] == ["pair-clean"]
    assert [r.item_id for r in rejects] == ["pair-planted"]
