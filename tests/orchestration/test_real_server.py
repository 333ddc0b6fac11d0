"""A real self-hosted stack on 127.0.0.1: `prefect server start` on Postgres with Redis messaging, API
auth, a process work pool and a `prefect worker`, deployments registered by `magnet deploy`.

A run is triggered through the REST API the UI uses, runs on the worker, retries a shard after an
infrastructure failure (a 500 from the teacher), completes, and its artifacts and the retried task's
state history are read back over the same API. Each run gets its own Postgres database (dropped after)
and flushes its own Redis DB number.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_DB = 11
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(action: str, name: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(PG_ADMIN)
        try:
            if action == "create":
                await connection.execute(f'CREATE DATABASE "{name}"')
            else:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(run())


def _flush_redis() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_", "PREFECT_SERVER_API_"))}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_LOGGING_LEVEL="WARNING")
    return env


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("prefect-server")
    database = f"magnet_prefect_test_{secrets.token_hex(4)}"
    auth = f"magnet:{secrets.token_hex(12)}"
    port = _free_port()
    _database("create", database)
    _flush_redis()
    server_env = _base_env(root / "server-home")
    server_env.update(
        PREFECT_API_DATABASE_CONNECTION_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}",
        PREFECT_MESSAGING_BROKER="prefect_redis.messaging",
        PREFECT_MESSAGING_CACHE="prefect_redis.messaging",
        PREFECT_REDIS_MESSAGING_HOST="127.0.0.1",
        PREFECT_REDIS_MESSAGING_PORT="6379",
        PREFECT_REDIS_MESSAGING_DB=str(REDIS_DB),
        PREFECT_SERVER_API_AUTH_STRING=auth,
        PREFECT_UI_ENABLED="false",
    )
    log = open(root / "server.log", "wb")
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=server_env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (root / "server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "prefect server did not start in 180 s"
            time.sleep(1)
        client_env = _base_env(root / "client-home")
        client_env.update(PREFECT_API_URL=api, PREFECT_API_AUTH_STRING=auth, MAGNET_PROJECT_DIR=str(REPO),
                          PREFECT_WORKER_QUERY_SECONDS="2", PREFECT_WORKER_PREFETCH_SECONDS="5")
        http = httpx.Client(base_url=api, auth=tuple(auth.split(":", 1)), timeout=30)
        yield {"api": api, "env": client_env, "http": http, "root": root, "auth": auth}
        http.close()
    finally:
        _stop(server)
        log.close()
        _database("drop", database)
        _flush_redis()


def test_api_refuses_requests_without_the_auth_string(real_server):
    assert httpx.post(f"{real_server['api']}/flows/filter", json={}, timeout=10).status_code == 401
    assert real_server["http"].post("/flows/filter", json={}).status_code == 200


def _wait_for_run(http: httpx.Client, flow_run_id: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        run = http.get(f"/flow_runs/{flow_run_id}").json()
        if run["state"] and run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return run
        assert time.monotonic() < deadline, f"flow run still {run['state']} after {timeout_s} s"
        time.sleep(2)


@pytest.mark.slow
def test_deployment_triggered_through_the_api_runs_on_the_worker(real_server, tmp_path, fake_llm, make_config,
                                                                 teacher):
    http, env = real_server["http"], real_server["env"]
    deployed = subprocess.run([str(BIN / "magnet"), "deploy", "--project-dir", str(REPO), "--name", "translate",
                               "--name", "nightly"], env=env, capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert "registered magnet-translate/translate" in deployed.stdout
    assert "registered magnet-pipeline/nightly" in deployed.stdout

    pools = {pool["name"]: pool for pool in http.post("/work_pools/filter", json={}).json()}
    assert pools["magnet-cpu"]["type"] == "process" and pools["magnet-gpu"]["concurrency_limit"] == 1
    nightly = http.get("/deployments/name/magnet-pipeline/nightly").json()
    assert [s["schedule"]["cron"] for s in nightly["schedules"]] == ["0 2 * * *"]
    deployment = http.get("/deployments/name/magnet-translate/translate").json()
    assert deployment["work_pool_name"] == "magnet-cpu"
    assert "config" in deployment["parameter_openapi_schema"]["properties"], "the UI renders the config form"

    fake_llm.server.configure(schedule=(None, "server_error"))  # preflight passes, the first stage call fails: an infrastructure error
    config = make_config(tmp_path, max_plans=3, shard_size=100,
                         models={"writer": teacher(fake_llm).model_dump()}, roles={"query_writer": "writer"})
    worker_log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "magnet-cpu", "--type", "process"],
                              env=env, stdout=worker_log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        created = http.post(f"/deployments/{deployment['id']}/create_flow_run",
                            json={"parameters": {"config": config.model_dump(mode="json")}})
        assert created.status_code == 201, created.text
        run = _wait_for_run(http, created.json()["id"], timeout_s=300)
    finally:
        _stop(worker)
        worker_log.close()
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
