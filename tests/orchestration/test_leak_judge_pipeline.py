"""The opt-in leak judge in a run: `roles: {leak_judge: teacher}` over real HTTP to the roles-mode server.

The scripted teacher appends, to a share of its closing texts, a reference to its guidance in words the
phrase/n-gram model misses. The judge rejects those samples with its verdict as the reason, the clean ones
are stored, no stored row holds the paraphrase, and every judge call is on the run's ledger.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from flows.stage_flows import assemble_flow
from magnet_core.llm.fake_answers import PARAPHRASED_LEAK_TEXT, AnswerRules
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.verify.leaks import leak_phrase


def _rows(dataset: Path, table: str) -> pd.DataFrame:
    parts = sorted((dataset / table).glob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts]) if parts else pd.DataFrame()


def test_the_leak_judge_rejects_paraphrased_leaks_and_its_calls_are_on_the_ledger(prefect_harness, tmp_path, make_config,
                                                                                 teacher):
    assert leak_phrase(PARAPHRASED_LEAK_TEXT) is None, "a leak the pattern model misses: only the judge can catch it"
    rules = AnswerRules(mode="roles", bad_rate=0.2, bad_kinds=("paraphrased_leak",))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        config = make_config(tmp_path, max_plans=6, models={"teacher": teacher(server, max_retries=1).model_dump()},
                             roles={"leak_judge": "teacher"}, graph={"judge": "heuristic"},
                             distill={"pairs_per_scenario": 1, "mined_per_scenario": 0},
                             single_turn={"single": 3, "parallel": 0, "multiple": 0, "irrelevance": 0},
                             pool={"kind": "bfcl", "source": "GorillaFileSystem,MathAPI,TicketAPI"})
        summary = assemble_flow(config=config)
        stats = server.stats.as_dict()
    assert stats["by_bad_answer"]["paraphrased_leak"] > 0 and stats["by_role"]["leak_judge"] > 0

    dataset = Path(summary["dataset_path"])
    rejects = _rows(dataset, "rejects")
    judged = rejects[rejects["reason"] == "hint_leakage_judged"]
    assert not judged.empty, rejects["reason"].value_counts()
    for detail, payload in zip(judged["detail"], judged["payload"]):
        assert detail.startswith("leak judge openai/fake-model: message ") and "was handed" in detail
        assert PARAPHRASED_LEAK_TEXT.strip() in payload

    sft = _rows(dataset, "sft")
    assert len(sft) > 0, "clean samples pass the judge"
    judged_rows = [json.loads(m) for m in sft["metadata"] if json.loads(m)["models"].get("leak_judge")]
    assert judged_rows and all(m["models"]["leak_judge"] == "openai/fake-model" for m in judged_rows)
    stored = [text for table in ("sft", "preference") for column in ("messages", "prompt", "chosen", "rejected")
              for text in _rows(dataset, table).get(column, pd.Series(dtype=str)).tolist()]
    assert stored and not any(PARAPHRASED_LEAK_TEXT.strip() in text for text in stored)

    ledger = pd.concat([pd.read_parquet(p) for p in sorted(tmp_path.glob("work/runs/*/ledger/*.parquet"))])
    judge_calls = ledger[ledger["role"] == "leak_judge"]
    # paid calls are the server's; a repeated request (two samples alike) is on the ledger as a cache hit
    assert (~judge_calls["cached"]).sum() == stats["by_role"]["leak_judge"] and len(judge_calls) >= stats["by_role"]["leak_judge"]
