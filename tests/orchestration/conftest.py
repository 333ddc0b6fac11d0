"""Fixtures of the orchestration tests: a fake LLM, small configs, Prefect read-backs.

The embedded Prefect server (`prefect_harness`) lives in tests/conftest.py, shared with other areas.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest

from magnet_core.graph.stage import PlanStageConfig

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def fake_llm():
    from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread

    with FakeServerThread(FakeServerConfig(prompt_tokens=120, completion_tokens=30)) as server:
        yield server


def small_config(workdir: Path, max_plans: int = 6, shard_size: int = 3, **changes):
    """The offline pipeline on a few plans, writing under `workdir` (datasets in workdir/data)."""
    from flows.configs import PipelineConfig

    raw = {
        "workdir": str(workdir / "work"),
        "plans": PlanStageConfig(max_plans=max_plans).model_dump(),
        "shard_size": shard_size,
        "assemble": {"root": str(workdir / "data"), "plots": False},
        "training": None,
        # the fake teacher's echo answers parse as nothing: tests of caching, costs and retries run with it
        # and don't judge yield; tests of the keep-share check set min_keep_share themselves
        "min_keep_share": 0.0,
    }
    raw.update(changes)
    return PipelineConfig.model_validate(raw)


def teacher_model(server, **changes):
    """A ModelConfig for the fake LLM: real litellm over HTTP; priced so the ledger shows a cost."""
    from magnet_core.llm.types import ModelConfig

    fields = {"model": "openai/fake-model", "api_base": server.url, "max_retries": 0, "timeout_s": 10.0,
              "input_cost_per_mtok": 1.0, "output_cost_per_mtok": 2.0}
    fields.update(changes)
    return ModelConfig(**fields)


@pytest.fixture()
def make_config():
    return small_config


@pytest.fixture()
def teacher():
    return teacher_model


# ---- reading back what a run left in Prefect: the API the UI reads -------------------------------------
def artifacts_of(flow_run_id: UUID) -> dict[str, list[Any]]:
    """Artifacts of a flow run (its tasks' included), by key; unkeyed ones under ''."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    grouped: dict[str, list[Any]] = {}
    for artifact in found:
        grouped.setdefault(artifact.key or "", []).append(artifact)
    return grouped


def table_rows(artifact: Any) -> list[dict[str, Any]]:
    data = artifact.data
    return json.loads(data) if isinstance(data, str) else data


def task_runs_of(flow_run_id: UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])), limit=200)


def state_history(task_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        states = client.read_task_run_states(task_run_id)
    return [state.name for state in sorted(states, key=lambda s: s.timestamp)]


def logs_of(flow_run_id: UUID, wanted: str, timeout_s: float = 30.0) -> list[tuple[int, str]]:
    """(level, message) of every log of a run (its tasks' included), once a line containing `wanted` is in."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    deadline = time.monotonic() + timeout_s
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200)
        lines = [(log.level, log.message) for log in logs]
        if any(wanted in message for _, message in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


@pytest.fixture()
def prefect_reads():
    return SimpleNamespace(artifacts_of=artifacts_of, table_rows=table_rows, task_runs_of=task_runs_of,
                           state_history=state_history, logs_of=logs_of)
