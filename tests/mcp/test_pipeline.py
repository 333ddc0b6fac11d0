"""The whole method over MCP tools: a pipeline run (training off) over the git, filesystem and memory
servers, whose stored calls are replayed in fresh servers from the recorded initial state."""

from __future__ import annotations

import json
import os

import pandas as pd
from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.domain.calls import FunctionCall
from magnet_core.execution.executor import CallExecutor
from magnet_core.verify.outcomes import strict_outcome


def _config(tmp_path, source: str):
    from flows.configs import PipelineConfig

    return PipelineConfig.model_validate({
        "workdir": str(tmp_path / "work"), "shard_size": 8, "training": None,
        "pool": {"kind": "mcp", "source": source},
        "plans": {"max_plans": 2, "seed": 0},  # plans over the git and filesystem servers
        "distill": {"pairs_per_scenario": 0},
        "single_turn": {"single": 1, "parallel": 0, "multiple": 0, "irrelevance": 1},
        "assemble": {"root": str(tmp_path / "data"), "plots": False,
                     "mixture": {"mode": "ratios", "targets": {"multi_turn": 1.0}}},
    })


def _calls_and_outputs(messages: list[dict]) -> list[tuple[FunctionCall, str]]:
    outputs = {m["tool_call_id"]: m["content"] for m in messages if m["role"] == "tool"}
    return [(FunctionCall(name=c["function"]["name"], arguments=c["function"]["arguments"]), outputs[c["id"]])
            for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []]


def test_pipeline_over_mcp_servers_stores_real_outputs_that_replay(prefect_harness, tmp_path, reference_source,
                                                                   reference_pool, procs):
    from flows.pipeline import pipeline_flow

    state = pipeline_flow(config=_config(tmp_path, reference_source), return_state=True)
    summary = state.result()
    assert state.is_completed(), state.message
    rows = pd.concat([pd.read_parquet(p) for p in sorted((tmp_path / "data").rglob("sft/*.parquet"))])
    multi = rows[rows["category"] == "multi_turn"]
    assert len(multi) >= 2, summary
    classes = set(reference_pool.classes())
    replayed = several_turns = 0
    servers_called: set[str] = set()
    for _, row in multi.iterrows():
        metadata, messages = json.loads(row["metadata"]), json.loads(row["messages"])
        assert metadata["simulated"] is False and metadata["source_pool"] == reference_pool.name
        initial = metadata["initial_state"]
        assert initial and set(initial) <= classes and all("kind" in state for state in initial.values())
        several_turns += sum(m["role"] == "user" for m in messages) >= 2
        stored = _calls_and_outputs(messages)
        assert len(stored) >= 2
        # Fresh servers from the recorded state give the stored outputs, call for call (file timestamps
        # from get_file_info are the one clock-like output of these servers: replayed, not compared).
        with CallExecutor(reference_pool.new_session(None, initial)) as executor:
            for call, output in stored:
                again = strict_outcome(executor.execute(call)).output_text()
                if call.name != "get_file_info":
                    assert again == output, call
                    replayed += 1
                servers_called.add(next(s.tool_class for s in reference_pool.specs if s.name == call.name))
    assert replayed >= 6 and several_turns >= 2
    assert "mcp-git" in servers_called  # commit hashes and all: git replays exactly from the recorded repository
    assert procs.reapers_of(os.getpid()) == []  # every server the run started is gone


def test_magnet_graph_over_an_mcp_server(tmp_path):
    result = CliRunner().invoke(app, ["graph", "--pool", "mcp", "--source", "mcp-server-memory", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "[offline: heuristic judge, no model configured]" in result.output
    graph = json.loads((tmp_path / "graph.json").read_text())
    assert graph["metadata"]["pool"] == "memory-server" and graph["metadata"]["offline"] is True
    edges = graph["graph"]["edges"]
    assert edges and all(e["source"].startswith("memory-server.") and e["source"] != e["target"] for e in edges)
    plans = [json.loads(line) for line in (tmp_path / "plans.jsonl").read_text().splitlines()]
    assert plans and all(name.startswith("memory-server.") for plan in plans for turn in plan["turns"]
                         for name in turn["functions"])
