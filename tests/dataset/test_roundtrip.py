"""A trajectory with nested, optional and absent arguments survives Parquet exactly and renders cleanly."""

from __future__ import annotations

import json

import datasets
import pandas as pd
import pytest

from magnet_core.dataset.loading import load_preference_dataset, load_sft_dataset, read_preference_pairs, read_trajectories
from magnet_core.dataset.stage import assemble_dataset, without_accounting
from magnet_core.domain import ChatMessage, FunctionCall, ToolCall, Trajectory

NESTED = {
    "city": "São Paulo ☀",
    "dates": ["2025-01-01", "2025-01-09"],
    "options": {"seat": "aisle", "meals": [{"kind": "veg", "extras": {"note": None, "名前": "たろう"}}, {}], "budget": 0.1, "big": 2**53 + 1},
    "flags": [True, False],
    "empty": {},
}
SPARSE = {"city": "Oslo"}  # `dates`, `options` absent: they must stay absent, not become null


def _tricky_trajectory(build) -> Trajectory:
    base = build.trajectory("rt-0001", "multi_turn", ["Book São Paulo with veg meals, then Oslo.", "Now go to the reports folder."], [])
    calls = (ToolCall(id="c1", function=FunctionCall(name="book_trip", arguments=NESTED)), ToolCall(id="c2", function=FunctionCall(name="book_trip", arguments=SPARSE)))
    messages = (
        base.messages[0],
        ChatMessage(role="user", content="Book São Paulo with veg meals, then Oslo."),
        ChatMessage(role="assistant", tool_calls=calls),
        ChatMessage(role="tool", content='{"booking": "ok"}', tool_call_id="c1", name="book_trip"),
        ChatMessage(role="tool", content='{"booking": "ok"}', tool_call_id="c2", name="book_trip"),
        ChatMessage(role="assistant", content="Both trips are booked."),
        ChatMessage(role="user", content="Now go to the reports folder."),
        ChatMessage(role="assistant", tool_calls=(ToolCall(id="c3", function=FunctionCall(name="cd", arguments={"folder": "reports"})),)),
        ChatMessage(role="tool", content="{}", tool_call_id="c3", name="cd"),
        ChatMessage(role="assistant", content="Done."),
    )
    return base.model_copy(update={"messages": messages})


@pytest.fixture
def stored(build, make_config):
    trajectory = _tricky_trajectory(build)
    pair = build.pair("pair-0001")
    version = assemble_dataset([trajectory], [pair], [], make_config(mixture=build.all_ratios))
    return trajectory, pair, version


def test_domain_objects_round_trip_exactly(stored):
    trajectory, pair, version = stored
    assert version.counts["sft"] == 1 and version.counts["preference"] == 1
    # everything round-trips except cost fields: accounting, not data (the version must not depend on them)
    assert read_trajectories(version.path) == [without_accounting(trajectory)]
    assert read_preference_pairs(version.path) == [without_accounting(pair)]
    assert "cost_usd" not in read_trajectories(version.path)[0].metadata


def test_datasets_and_pandas_read_the_files_unchanged(stored):
    trajectory, _, version = stored
    loaded = datasets.load_dataset("parquet", data_dir=str(version.path / "sft"), split="train")
    row = loaded[0]
    assert row["messages"] == trajectory.to_template_messages()
    assert row["tools"] == list(trajectory.tools)
    assert row["metadata"] == without_accounting(trajectory).metadata
    arguments = [c["function"]["arguments"] for c in row["messages"][2]["tool_calls"]]
    assert arguments == [NESTED, SPARSE]
    assert set(arguments[1]) == {"city"}

    frame = pd.read_parquet(version.path / "sft")
    assert json.loads(frame.loc[0, "messages"]) == trajectory.to_template_messages()
    assert json.loads(frame.loc[0, "tools"]) == list(trajectory.tools)
    assert frame.loc[0, "category"] == "multi_turn" and bool(frame.loc[0, "offline"]) is True


def test_loaders_give_what_trl_takes(stored):
    trajectory, pair, version = stored
    sft = load_sft_dataset(version.path)
    assert sft.column_names == ["messages", "tools"]
    assert sft[0]["messages"][2]["tool_calls"][1]["function"]["arguments"] == SPARSE
    preference = load_preference_dataset(version.path)
    assert preference.column_names == ["prompt", "chosen", "rejected", "tools"]
    assert preference[0]["chosen"] == [m.to_template() for m in pair.chosen]
    assert preference[0]["rejected"][0]["tool_calls"][0]["function"]["arguments"] == {"city": "Zurich"}


def _count_none(value) -> int:
    if value is None:
        return 1
    if isinstance(value, dict):
        return sum(_count_none(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_none(v) for v in value)
    return 0


def test_chat_template_renders_without_stray_nulls(stored, qwen_tokenizer):
    trajectory, _, version = stored
    row = load_sft_dataset(version.path)[0]
    rendered = qwen_tokenizer.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
    assert '"arguments": {"city": "Oslo"}' in rendered
    assert "São Paulo ☀" in rendered and "たろう" in rendered
    assert "None" not in rendered
    assert rendered.count("null") == _count_none(NESTED) == 1  # only the explicit `"note": null`


def test_naive_list_of_dicts_would_render_nulls(stored, qwen_tokenizer):
    """The pitfall the Json encoding avoids: Arrow struct inference fills absent keys with None."""
    trajectory, _, _ = stored
    naive = datasets.Dataset.from_list([{"messages": trajectory.to_template_messages()}])
    rendered = qwen_tokenizer.apply_chat_template(naive[0]["messages"], tokenize=False)
    assert "null" in rendered or "None" in rendered


def test_card_configs_load_by_name_and_trl_formats_the_pair(stored, qwen_tokenizer):
    from trl.data_utils import apply_chat_template

    _, pair, version = stored
    by_config = datasets.load_dataset(str(version.path), "preference", split="train")
    assert by_config[0]["prompt"] == [m.to_template() for m in pair.prompt]
    row = load_preference_dataset(version.path)[0]
    formatted = apply_chat_template({k: row[k] for k in ("prompt", "chosen", "rejected")}, qwen_tokenizer, tools=row["tools"])
    assert '"arguments": {"city": "Zurich"}' in formatted["rejected"]
    assert '"meals": [{"kind": "veg"}, {}]' in formatted["chosen"]
    assert "None" not in "".join(formatted.values()) and "null" not in "".join(formatted.values())


def test_bad_rows_become_rejects_with_a_reason(build, make_config):
    good = build.trajectory("ok-1", "single", [build.distinct_query(1)])
    nan_call = build.trajectory("bad-nan", "single", [build.distinct_query(2)], [[FunctionCall(name="cd", arguments={"folder": float("nan")})]])
    unknown = build.trajectory("bad-category", "chit_chat", [build.distinct_query(3)])
    version = assemble_dataset([good, nan_call, unknown], [], [], make_config(mixture=build.all_ratios, decontamination={"enabled": False}))
    assert version.rejects_by_reason == {"assemble/unknown_category": 1, "assemble/unserializable": 1}
    assert [t.trajectory_id for t in read_trajectories(version.path)] == ["ok-1"]


def test_an_empty_table_still_loads_with_its_schema(build, make_config):
    version = assemble_dataset([build.trajectory("only-1", "irrelevance", [build.distinct_query(5)], [])], [], [], make_config(mixture=build.all_ratios))
    preference = load_preference_dataset(version.path)
    assert len(preference) == 0 and preference.column_names == ["prompt", "chosen", "rejected", "tools"]
    assert pd.read_parquet(version.path / "preference").empty
    assert load_sft_dataset(version.path)[0]["messages"][-1] == {"role": "assistant", "content": "Done with step 0."}


def test_upstream_rejects_are_stored_even_when_their_payload_is_not_json(build, make_config):
    from magnet_core.dataset.loading import read_rejects
    from magnet_core.domain import Reject

    upstream = [Reject(stage="distill", item_id="scn-9", reason="verification_failed", detail="turn 2", payload={"score": float("nan"), "api_key": "x"}),
                Reject(stage="translate", item_id="scn-3", reason="teacher_refused", payload={"raw": "I cannot ✗"})]
    version = assemble_dataset([build.trajectory("ok-1", "single", [build.distinct_query(1)])], [], upstream, make_config(mixture=build.all_ratios))
    rows = {row["item_id"]: row for row in read_rejects(version.path)}
    assert json.loads(rows["scn-3"]["payload"]) == {"raw": "I cannot ✗"}
    kept = json.loads(rows["scn-9"]["payload"])
    assert "nan" in kept["unserializable_payload"] and "'api_key': '[redacted]'" in kept["unserializable_payload"]
    assert version.rejects_by_reason == {"distill/verification_failed": 1, "translate/teacher_refused": 1}


def test_bfcl_text_export_parses_back_to_the_same_calls(build, make_config):
    from magnet_core.execution.call_parser import parse_calls

    trajectory = _tricky_trajectory(build)
    version = assemble_dataset([trajectory], [], [], make_config(mixture=build.all_ratios, export_bfcl=True))
    record = json.loads((version.path / "bfcl" / "multi_turn.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert [turn[0]["content"] for turn in record["question"]] == [m.content for m in trajectory.messages if m.role == "user"]
    parsed = [[call for text in turn for call in parse_calls(text)] for turn in record["ground_truth"]]
    assert parsed == [[FunctionCall(name="book_trip", arguments=NESTED), FunctionCall(name="book_trip", arguments=SPARSE)],
                      [FunctionCall(name="cd", arguments={"folder": "reports"})]]
