"""The temporary local Prefect API of `magnet run`, started before the heavy imports instead of after them.

Without PREFECT_API_URL, Prefect starts a temporary server the first time a flow needs it, and that
start (~6 s: the server process imports Prefect's whole API and checks its database) runs after the
command has already spent seconds importing the pipeline. A cached re-run is mostly those two waits
in a row. Here the same server (same command and settings Prefect's own temporary server uses) is
started first, in its own process, and the pipeline imports while it boots; PREFECT_API_URL (set at once,
since Prefect reads it when imported) points this process - and any Dask worker it starts - at it,
and it is stopped when the command ends.

This module must not import Prefect: the point is to start the server before Prefect is imported.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


class LocalAPI:
    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.url: str | None = None

    def start(self) -> "LocalAPI":
        spec = importlib.util.find_spec("prefect")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("prefect is not installed")
        app_dir = str(Path(list(spec.submodule_search_locations)[0]).parent)
        with socket.socket() as probe:  # a free port now; uvicorn exits with 3 if taken meanwhile (retried)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
            env=env, stdin=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}/api"
        os.environ["PREFECT_API_URL"] = self.url  # before Prefect is imported: its settings read the env once
        atexit.register(self.stop)
        return self

    def wait_ready(self, timeout_s: float) -> bool:
        """True once /health answers; False if the process died or the time ran out (caller falls back)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def start_early() -> LocalAPI | None:
    """Start the temporary server now unless an API is configured (or ephemeral mode is off)."""
    if os.environ.get("PREFECT_API_URL") or os.environ.get("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "").lower() in ("0", "false"):
        return None
    return LocalAPI().start()


def wait_or_explain(api: LocalAPI | None, timeout_s: float) -> None:
    """Block until the early server answers; a server that cannot start is an error with its reason."""
    if api is not None and not api.wait_ready(timeout_s):
        code = api.process.poll() if api.process else None
        api.stop()
        raise RuntimeError(f"the temporary Prefect server did not start within {timeout_s:.0f} s (exit code {code}); "
                           "set PREFECT_API_URL to a running server, or raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
