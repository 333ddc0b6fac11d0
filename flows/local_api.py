"""The local Prefect API of `magnet run`: started before the heavy imports, and kept for the next run.

Without PREFECT_API_URL, Prefect starts a temporary server the first time a flow needs it and stops it
at exit: every run pays its start (~5 s of CPU: the server imports Prefect's whole API and checks its
database), after the seconds the command already spent importing the pipeline. A cached re-run is
mostly that. Instead `magnet run` uses one local server per Prefect home (its database): the first run
starts it (same app and settings as Prefect's temporary server, `flows/api_keeper.py`) while the
pipeline imports, later runs find it and start nothing, and it exits by itself after
MAGNET_LOCAL_API_IDLE_S (default 900) seconds without a run. PREFECT_API_URL is set at once, before
Prefect is imported (its settings read the environment once), so this process and any Dask worker it
starts report to that server.

This module must not import Prefect: the point is to start the server before Prefect is imported.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

KEEPER = Path(__file__).with_name("api_keeper.py")


def _idle_s() -> float:
    return float(os.environ.get("MAGNET_LOCAL_API_IDLE_S", "900"))


def _home() -> Path:
    return Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()


def _healthy(url: str, timeout_s: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout_s) as response:
            return response.status == 200
    except OSError:
        return False


class LocalAPI:
    def __init__(self, record: Path) -> None:
        self.record, self.lease = record, record.with_suffix(".lease")
        self.process: subprocess.Popen | None = None
        self.url: str | None = None
        self.reused = False

    def touch(self) -> None:
        self.lease.touch()

    def find(self) -> bool:
        """A server an earlier run left, still answering: reuse it."""
        try:
            url = json.loads(self.record.read_text())["url"]
        except (OSError, ValueError, KeyError):
            return False
        if not _healthy(url):
            return False
        self.url, self.reused = url, True
        self.touch()
        return True

    def start(self) -> None:
        with socket.socket() as probe:  # a free port now (a clash makes the server exit: reported, not hidden)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.record.parent.mkdir(parents=True, exist_ok=True)
        self.touch()
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        with open(self.record.with_suffix(".log"), "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(KEEPER), "--port", str(port), "--lease", str(self.lease), "--idle", str(_idle_s())],
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}/api"
        self.record.write_text(json.dumps({"url": self.url, "pid": self.process.pid, "started": time.time()}))

    def wait_ready(self, timeout_s: float) -> bool:
        """True once /health answers; False if the process died or the time ran out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            if _healthy(self.url or ""):
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.record.unlink(missing_ok=True)


def start_early() -> LocalAPI | None:
    """Reuse the kept local server or start one now, unless an API is configured (or ephemeral mode is off)."""
    if os.environ.get("PREFECT_API_URL") or os.environ.get("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "").lower() in ("0", "false"):
        return None
    api = LocalAPI(_home() / "magnet-local-api.json")
    if not api.find():
        api.start()
    os.environ["PREFECT_API_URL"] = api.url or ""
    atexit.register(api.touch)  # the idle time counts from the end of this run
    return api


def describe(api: LocalAPI | None) -> str | None:
    if api is None:
        return None
    how = "reused from an earlier run" if api.reused else "started for this run"
    return (f"local Prefect API {api.url} ({how}; kept {_idle_s() / 60:.0f} idle minutes for re-runs, "
            "MAGNET_LOCAL_API_IDLE_S to change)")


def wait_or_explain(api: LocalAPI | None, timeout_s: float) -> None:
    """Block until the server answers; a server that cannot start is an error with its reason."""
    if api is not None and not api.wait_ready(timeout_s):
        code = api.process.poll() if api.process else None
        api.stop()
        raise RuntimeError(f"the local Prefect server did not start within {timeout_s:.0f} s (exit code {code}, log "
                           f"{api.record.with_suffix('.log')}); set PREFECT_API_URL to a running server, or raise "
                           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
