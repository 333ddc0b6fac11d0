"""A real self-hosted stack on 127.0.0.1: `prefect server start` on Postgres with Redis messaging, API
auth, a process work pool and a `prefect worker`, deployments registered by `magnet deploy`.

A run is triggered through the REST API the UI uses, runs on the worker, retries a shard after an
infrastructure failure (a 500 from the teacher), completes, and its artifacts and the retried task's
state history are read back over the same API. Each run gets its own Postgres database (dropped after)
and flushes its own Redis DB number.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from server_stack import deploy, prefect_stack, wait_for_run, worker  # noqa: E402

REDIS_DB = 11


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    with prefect_stack(tmp_path_factory.mktemp("prefect-server"), REDIS_DB) as stack:
        yield stack


def test_api_refuses_requests_without_the_auth_string(real_server):
    assert httpx.post(f"{real_server['api']}/flows/filter", json={}, timeout=10).status_code == 401
    assert real_server["http"].post("/flows/filter", json={}).status_code == 200


@pytest.mark.slow
def test_deployment_triggered_through_the_api_runs_on_the_worker(real_server, tmp_path, fake_llm, make_config,
                                                                 teacher):
    http, env = real_server["http"], real_server["env"]
    deployed = deploy(env, "translate", "advanced")
    assert "registered magnet-translate/translate" in deployed
    assert "registered magnet-pipeline/advanced" in deployed

    pools = {pool["name"]: pool for pool in http.post("/work_pools/filter", json={}).json()}
    assert pools["magnet-cpu"]["type"] == "process" and pools["magnet-gpu"]["concurrency_limit"] == 1
    advanced = http.get("/deployments/name/magnet-pipeline/advanced").json()
    assert advanced["schedules"] == [] and "config" in advanced["parameter_openapi_schema"]["properties"]
    deployment = http.get("/deployments/name/magnet-translate/translate").json()
    assert deployment["work_pool_name"] == "magnet-cpu"
    assert "config" in deployment["parameter_openapi_schema"]["properties"], "the UI renders the config form"

    fake_llm.server.configure(schedule=(None, "server_error"))  # preflight passes, the first stage call fails: an infrastructure error
    config = make_config(tmp_path, max_plans=3, shard_size=100,
                         models={"writer": teacher(fake_llm).model_dump()}, roles={"query_writer": "writer"})
    with worker(env, "magnet-cpu", tmp_path / "worker.log"):
        created = http.post(f"/deployments/{deployment['id']}/create_flow_run",
                            json={"parameters": {"config": config.model_dump(mode="json")}})
        assert created.status_code == 201, created.text
        run = wait_for_run(http, created.json()["id"], timeout_s=300)
    assert run["state"]["type"] == "COMPLETED", (tmp_path / "worker.log").read_text()[-4000:]

    artifacts = http.post("/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()
    by_key = {a["key"]: a for a in artifacts if a["key"]}
    assert {"cost-by-model", "task-costs", "run-summary", "translate-progress"} <= set(by_key)
    cost_rows = by_key["cost-by-model"]["data"]
    cost_rows = cost_rows if isinstance(cost_rows, list) else __import__("json").loads(cost_rows)
    assert cost_rows[0]["model"] == "openai/fake-model" and cost_rows[0]["calls"] >= 1
    assert cost_rows[0]["failed_calls"] >= 1, "the failed attempt's call is in the ledger too"
    assert "status: **Completed**" in by_key["run-summary"]["data"]

    task_runs = http.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [run["id"]]}}}).json()
    translate = [t for t in task_runs if t["name"].startswith("translate")]
    assert len(translate) == 1
    history = [s["name"] for s in sorted(http.get("/task_run_states/", params={"task_run_id": translate[0]["id"]}).json(),
                                         key=lambda s: s["timestamp"])]
    assert "AwaitingRetry" in history and "Retrying" in history, history
    assert history[-1] == "Completed"
    assert translate[0]["run_count"] == 2
