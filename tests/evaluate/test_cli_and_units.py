"""`magnet eval` on the command line, config validation, and reading replies safely."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError
from scripted import oracle
from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.evaluate.config import EvalConfig
from magnet_core.evaluate.replies import AssistantReply, reply_calls, visible_text
from magnet_core.llm.types import ModelConfig


def test_magnet_eval_runs_an_oracle_and_prints_scores(tmp_path, scripted_model):
    with scripted_model(oracle) as (server, _):
        result = CliRunner().invoke(app, [
            "eval", "--output-dir", str(tmp_path), "--model", "openai/fake-model", "--api-base", server.url,
            "--categories", "miss_func", "--sample", "3", "--seed", "0", "--label", "oracle",
        ])
    assert result.exit_code == 0, result.output
    assert re.search(r"^miss_func\s+100\.00%  \(3/3\)  strict-schema 100\.00%", result.output, re.M)
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# BFCL evaluation: oracle") and "| miss_func | 3 | 100.00 | 100.00 |" in report
    assert len(pd.read_parquet(tmp_path / "cases.parquet")) == 3


def test_magnet_eval_needs_exactly_one_model(tmp_path):
    result = CliRunner().invoke(app, ["eval", "--output-dir", str(tmp_path)])
    assert result.exit_code != 0 and "exactly one of --model" in result.output


def test_config_refuses_two_models_and_unknown_categories(tmp_path):
    model = ModelConfig(model="openai/x")
    with pytest.raises(ValidationError, match="exactly one"):
        EvalConfig(output_dir=tmp_path, model=model, local_model_path=tmp_path)
    with pytest.raises(ValidationError):
        EvalConfig(output_dir=tmp_path, model=model, categories=("simple",))
    config = EvalConfig(output_dir=tmp_path, model=model)
    assert config.run_key("p@v1#a") != config.model_copy(update={"max_steps_per_turn": 5}).run_key("p@v1#a")


def test_reply_calls_reads_tool_calls_and_qwen_blocks_and_refuses_code():
    calls, error = reply_calls(AssistantReply(tool_calls=({"id": "c", "type": "function",
                                                           "function": {"name": "ls", "arguments": '{"a": true}'}},)))
    assert error is None and [(c.name, c.arguments) for c in calls] == [("ls", {"a": True})]
    text = 'Sure.<tool_call>\n{"name": "cd", "arguments": {"folder": "docs"}}\n</tool_call><tool_call>{"name": "ls", "arguments": {}}</tool_call>'
    calls, error = reply_calls(AssistantReply(content=text), "lenient")
    assert error is None and [c.name for c in calls] == ["cd", "ls"] and visible_text(text) == "Sure."
    calls, error = reply_calls(AssistantReply(content="<tool_call>__import__('os').getcwd()</tool_call>"), "lenient")
    assert calls == [] and "unparsable calls" in error and "forbidden_callee" in error
    # Default: BFCL's Qwen FC handler. A block needs its newlines; an unreadable block is skipped alone.
    assert [c.name for c in reply_calls(AssistantReply(content=text))[0]] == ["cd"]
    bad_then_good = '<tool_call>\n{"name": "cd", oops}\n</tool_call>\n<tool_call>\n{"name": "ls", "arguments": "{}"}\n</tool_call>'
    assert [(c.name, c.arguments) for c in reply_calls(AssistantReply(content=bad_then_good))[0]] == [("ls", {})]
    assert reply_calls(AssistantReply(content='<tool_call>\n{"name": "cd", "arguments": {}}'))[0] == []  # unterminated
    calls, error = reply_calls(AssistantReply(content='<tool_call>\n["cd"]\n</tool_call>\n<tool_call>\n{"name": "ls", "arguments": {}}\n</tool_call>'))
    assert calls == [] and "not a JSON object" in error  # one non-object block makes the reply unreadable, as in BFCL
    calls, error = reply_calls(AssistantReply(content="<tool_call>\n__import__('os').getcwd()\n</tool_call>"))
    assert calls == [] and "not JSON" in error
    assert reply_calls(AssistantReply(content="Which folder do you mean?")) == ([], None)
