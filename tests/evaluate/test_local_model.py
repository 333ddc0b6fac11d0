"""A tiny random Qwen2 checkpoint, run in-process with transformers, through the whole evaluation."""

from __future__ import annotations

import pandas as pd
import pytest

from magnet_core.evaluate.config import EvalConfig
from magnet_core.evaluate.runner import run_evaluation


@pytest.mark.slow
def test_tiny_random_local_model_runs_end_to_end(tmp_path):
    from magnet_core.train.tiny_model import create_tiny_model

    checkpoint = create_tiny_model(tmp_path / "tiny", seed=0, max_position_embeddings=2048)
    config = EvalConfig(
        output_dir=tmp_path / "eval",
        categories=("base", "miss_func"),
        sample_size=1,
        local_model_path=checkpoint,
        local_max_new_tokens=16,
        concurrency=2,
    )
    result = run_evaluation(config)
    assert result.complete and [s.cases for s in result.scores] == [1, 1]
    table = pd.read_parquet(result.cases_parquet)
    assert len(table) == 2 and (table["requests"] >= table["turns"]).all() and (table["turns"] >= 1).all()
    assert (table["prompt_tokens"] > 0).all() and (table["cost_usd"] == 0.0).all()
    # a random model almost never produces a call sequence that passes; whatever it does is judged
    assert (table["valid"] | (table["error_type"] != "")).all()
    assert "local:tiny" in result.report_md.read_text()
    assert result.chart_png.stat().st_size > 1000
