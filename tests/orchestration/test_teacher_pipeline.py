"""The whole pipeline (training off) with every model-backed role on one scripted teacher over HTTP.

The teacher is the project's test server in `roles` mode (it plays each role from its versioned prompt)
reached by real litellm: translate and single-turn yield, rejects with reasons, re-asks, the ledger
against the server's own counts, single-turn and irrelevance queries written by the model (not our
templates), and no hint text in any stored row are all checked on what the run wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from flows.pipeline import pipeline_flow
from magnet_core.llm.fake_answers import LEAK_TEXT, AnswerRules
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.verify.leaks import leak_phrase

PLANS = 14
CLASSES = "GorillaFileSystem,MathAPI,MessageAPI,TwitterAPI,TicketAPI,TradingBot,TravelAPI,VehicleControlAPI"
PRICE_IN, PRICE_OUT = 1.0, 2.0  # USD per 1M tokens, as `teacher_model` prices the fake model
SINGLE_TURN = ("single", "parallel", "multiple", "irrelevance")


def _config(make_config, teacher, server, tmp_path: Path):
    """One `teacher` alias: every model-backed role of every configured stage uses it (graph judge included)."""
    model = teacher(server, max_retries=1).model_dump()
    distill = {"pairs_per_scenario": 1, "mined_per_scenario": 1}
    single = {"single": 1, "parallel": 1, "multiple": 1, "irrelevance": 1}
    return make_config(tmp_path, max_plans=PLANS, shard_size=5, models={"teacher": model}, graph={"judge": "llm"},
                       distill=distill, single_turn=single, pool={"kind": "bfcl", "source": CLASSES})


def _stage(summary, name):
    return next(row for row in summary["stages"] if row["stage"] == name)


def _rows(dataset: Path, table: str) -> pd.DataFrame:
    parts = sorted((dataset / table).glob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts]) if parts else pd.DataFrame()


@pytest.mark.parametrize("bad_rate, min_yield", [(0.0, 0.90), (0.10, 0.80)], ids=["well-behaved", "10%-bad-answers"])
def test_every_role_on_a_scripted_teacher_end_to_end(prefect_harness, tmp_path, make_config, teacher, bad_rate, min_yield):
    rules = AnswerRules(mode="roles", bad_rate=bad_rate, bad_kinds=("invalid_json", "unknown_function", "empty", "leak"))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        state = pipeline_flow(config=_config(make_config, teacher, server, tmp_path), return_state=True)
        summary = state.result(raise_on_failure=False)
        stats, written = server.stats.as_dict(), server.memory.written_queries()
    assert state.is_completed(), state.message
    assert summary["offline"] is False

    translate = _stage(summary, "translate")
    assert translate["items_in"] >= 10 and translate["items_out"] + translate["rejects"] == translate["items_in"]
    assert translate["items_out"] / translate["items_in"] >= min_yield, summary
    for name in ("distill", "single_turn"):
        row = _stage(summary, name)
        assert row["items_out"] + row["rejects"] >= row["items_in"] > 0  # every item: an output or a reject
    single_turn = _stage(summary, "single_turn")
    assert single_turn["items_out"] / single_turn["items_in"] >= min_yield, summary
    rejects = _rows(Path(summary["dataset_path"]), "rejects")
    assert rejects.empty or rejects["reason"].map(bool).all()

    # every role was played over HTTP, and bad answers were re-asked rather than fatal
    assert {"dependency_judge", "query_writer", "call_writer", "teacher", "student", "error_judge"} <= set(stats["by_role"])
    if bad_rate:
        assert sum(stats["by_bad_answer"].values()) > 0

    ledger = pd.concat([pd.read_parquet(p) for p in sorted(tmp_path.glob("work/runs/*/ledger/*.parquet"))])
    paid = ledger[~ledger["cached"]]
    assert len(paid) == stats["chat_requests"] == stats["answered"]
    assert paid["prompt_tokens"].sum() == stats["prompt_tokens"]
    assert paid["completion_tokens"].sum() == stats["completion_tokens"]
    expected = (stats["prompt_tokens"] * PRICE_IN + stats["completion_tokens"] * PRICE_OUT) / 1e6
    assert ledger["cost_usd"].sum() == pytest.approx(expected, rel=1e-6)
    assert summary["costs"]["calls"] == len(ledger)
    single_turn_calls = ledger[ledger["stage"] == "single_turn"]["role"].value_counts()
    assert {"query_writer", "call_writer", "teacher"} <= set(single_turn_calls.index), single_turn_calls

    dataset = Path(summary["dataset_path"])
    stored = [text for table in ("sft", "preference") for column in ("messages", "prompt", "chosen", "rejected")
              for text in _rows(dataset, table).get(column, pd.Series(dtype=str)).tolist()]
    assert stored, "the run stored no rows"
    _assert_single_turn_rows_are_the_models(_rows(dataset, "sft"), written)
    for text in stored:
        assert "reference_calls" not in text and LEAK_TEXT.strip() not in text
        for message in json.loads(text):
            if message.get("role") == "assistant":
                assert leak_phrase(message.get("content")) is None, message


def _assert_single_turn_rows_are_the_models(sft: pd.DataFrame, written: frozenset[str]) -> None:
    """Every single-turn and irrelevance row's query is text the server's query writer wrote, and the row
    says so; its calls are the call writer's, except irrelevance (no calls: the teacher refuses)."""
    rows = sft[sft["category"].isin(SINGLE_TURN)]
    assert set(rows["category"]) >= {"single", "irrelevance"}, set(rows["category"])
    for _, row in rows.iterrows():
        query = next(m["content"] for m in json.loads(row["messages"]) if m["role"] == "user")
        assert query in written, query
        models = json.loads(row["metadata"])["models"]
        assert models["query_writer"] == models["teacher"] == "openai/fake-model"
        assert models["call_writer"] == ("offline" if row["category"] == "irrelevance" else "openai/fake-model")
