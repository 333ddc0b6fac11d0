"""A real self-hosted Prefect stack for tests: `prefect server start` (with its services) on its own Postgres
database and Redis DB number, API auth, optionally the UI; workers as real `prefect worker` processes.

Everything binds 127.0.0.1 on free ports; the database is dropped and the Redis DB flushed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BIN = Path(sys.executable).parent
FINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database(action: str, name: str) -> None:
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


def flush_redis(db: int) -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=db).flushdb()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_", "PREFECT_SERVER_API_"))}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_LOGGING_LEVEL="WARNING")
    return env


def poll(read: Callable[[], Any], done: Callable[[Any], bool], timeout_s: float, what: str, interval_s: float = 1.0):
    """Read until `done(value)`, with a bounded deadline (no fixed sleeps standing in for a condition)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what}: not reached in {timeout_s} s (last: {str(value)[:500]})"
        time.sleep(interval_s)


@contextmanager
def prefect_stack(root: Path, redis_db: int, ui: bool = False, **server_settings: str) -> Iterator[dict[str, Any]]:
    """Start the server; yield {api, url, env (for clients/workers), http (authenticated), auth, log}."""
    name = f"magnet_prefect_test_{secrets.token_hex(4)}"
    auth = f"magnet:{secrets.token_hex(12)}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database("create", name)
    flush_redis(redis_db)
    env = base_env(root / "server-home")
    env.update(
        PREFECT_API_DATABASE_CONNECTION_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
        PREFECT_MESSAGING_BROKER="prefect_redis.messaging", PREFECT_MESSAGING_CACHE="prefect_redis.messaging",
        PREFECT_REDIS_MESSAGING_HOST="127.0.0.1", PREFECT_REDIS_MESSAGING_PORT="6379",
        PREFECT_REDIS_MESSAGING_DB=str(redis_db), PREFECT_SERVER_API_AUTH_STRING=auth,
        PREFECT_UI_ENABLED="true" if ui else "false", PREFECT_UI_API_URL=f"{url}/api", **server_settings)
    log_path = root / "server.log"
    log = open(log_path, "wb")
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    http = httpx.Client(base_url=f"{url}/api", auth=tuple(auth.split(":", 1)), timeout=30)
    try:
        def health() -> bool:
            assert server.poll() is None, log_path.read_text()[-3000:]
            try:
                return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        poll(health, bool, 180, "prefect server health")
        client_env = base_env(root / "client-home")
        client_env.update(PREFECT_API_URL=f"{url}/api", PREFECT_API_AUTH_STRING=auth, MAGNET_PROJECT_DIR=str(REPO),
                          PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="5")
        yield {"api": f"{url}/api", "url": url, "env": client_env, "http": http, "auth": auth, "log": log_path,
               "root": root}
    finally:
        http.close()
        stop(server)
        log.close()
        database("drop", name)
        flush_redis(redis_db)


@contextmanager
def worker(env: dict[str, str], pool: str, log_path: Path) -> Iterator[subprocess.Popen]:
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", pool, "--type", "process"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent)
        try:
            yield process
        finally:
            stop(process)


def deploy(env: dict[str, str], *names: str) -> str:
    args = [str(BIN / "magnet"), "deploy", "--project-dir", str(REPO)]
    for name in names:
        args += ["--name", name]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def wait_for_run(http: httpx.Client, flow_run_id: str, timeout_s: float) -> dict:
    return poll(lambda: http.get(f"/flow_runs/{flow_run_id}").json(),
                lambda run: bool(run["state"]) and run["state"]["type"] in FINAL_STATES, timeout_s,
                f"flow run {flow_run_id} finishing", interval_s=2)
