"""A dataset version depends on the pool's content, never on where its file lives (issue 12).

The same tools copied to two directories under two file names give one version; changing one function in
place gives another, in the same process, so no in-process cache keyed by the path may hand back the old pool.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from flows.stage_flows import assemble_flow
from tasks.synthesis_tasks import STAGE_EXECUTIONS

from .test_roles_this_run import TOOLS

# Every function has a category and a class: no labeller is needed, the run stays offline.
LABELLED = [{**tool, "category": "travel", "tool_class": "TravelTools"} for tool in TOOLS]
ONE_SHOT = {"single": 1, "parallel": 0, "multiple": 0, "irrelevance": 0}


def _run(make_config, root: Path, pool_file: Path, run_name: str) -> dict:
    """Every run shares one workdir (one stage cache): a path-keyed cache would show up as a wrong hit."""
    config = make_config(root, max_plans=2, pool={"kind": "openai-json", "source": str(pool_file)},
                         single_turn=ONE_SHOT, run_name=run_name)
    return assemble_flow(config=config)


def _sft_json(summary: dict) -> str:
    return pd.read_parquet(Path(summary["dataset_path"]) / "sft").to_json()


def test_equal_pool_contents_give_equal_versions_wherever_the_file_lives(prefect_harness, tmp_path, make_config):
    first_file = tmp_path / "here" / "tools.json"
    second_file = tmp_path / "elsewhere" / "deeper" / "renamed_pool.json"
    for path in (first_file, second_file):
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(LABELLED))

    factory = tmp_path / "factory"
    first = _run(make_config, factory, first_file, "first")
    executed = dict(STAGE_EXECUTIONS)
    second = _run(make_config, factory, second_file, "second")
    assert STAGE_EXECUTIONS["translate"] == executed["translate"], "same content elsewhere: the stage cache hits"
    assert first["dataset_counts"]["sft"] > 0 and first["offline"]
    assert first["pool"]["fingerprint"] == second["pool"]["fingerprint"]
    assert first["dataset_version"] == second["dataset_version"]
    rows = _sft_json(first)
    assert str(tmp_path) not in rows and "renamed_pool" not in rows and "tools.json" not in rows

    changed = [dict(tool) for tool in LABELLED]
    changed[1] = {**changed[1], "function": {**changed[1]["function"], "description": "Get tomorrow's forecast for a city."}}
    first_file.write_text(json.dumps(changed))  # same path, new content: nothing may serve the old pool
    third = _run(make_config, factory, first_file, "third")
    assert STAGE_EXECUTIONS["translate"] > executed["translate"], "changed content at the same path: the cache misses"
    assert third["pool"]["fingerprint"] != first["pool"]["fingerprint"]
    assert third["dataset_version"] != first["dataset_version"]
    assert "tomorrow's forecast" in _sft_json(third)


def test_a_pool_handed_to_a_worker_is_taken_only_under_its_own_fingerprint(tmp_path):
    """`prime_pool` (the flow's loaded pool, pickled to each Dask worker): the worker then loads nothing,
    and a pool of other content is refused rather than filed under the ref's fingerprint."""
    import pickle

    import pytest

    from tasks.outputs import LOADED_POOLS, PoolSettings, describe_pool, open_pool, prime_pool

    path, other_path = tmp_path / "tools.json", tmp_path / "other.json"
    path.write_text(json.dumps(LABELLED))
    other_path.write_text(json.dumps(LABELLED[:1]))
    ref, other = describe_pool(PoolSettings(kind="openai-json", source=str(path))), \
        describe_pool(PoolSettings(kind="openai-json", source=str(other_path)))
    handed = pickle.loads(pickle.dumps(open_pool(ref)))
    with pytest.raises(ValueError, match="fingerprint"):
        prime_pool(ref, open_pool(other))
    LOADED_POOLS.clear()
    path.unlink()  # a worker that loaded from the source would fail now
    prime_pool(ref, handed)
    assert open_pool(ref) is handed
