"""`magnet run`'s local Prefect API: the first run starts it, the next run finds it and starts nothing,
and it goes away by itself once no run wants it."""

from __future__ import annotations

import urllib.request

from flows.local_api import start_early


def test_local_api_is_reused_by_the_next_run_and_exits_when_released(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.setenv("MAGNET_LOCAL_API_IDLE_S", "600")
    first = start_early()
    try:
        assert first is not None and not first.reused
        assert first.wait_ready(180), (tmp_path / "magnet-local-api.log").read_text()[-2000:]
        with urllib.request.urlopen(f"{first.url}/health", timeout=5) as response:
            assert response.status == 200

        monkeypatch.delenv("PREFECT_API_URL")  # the next `magnet run` is a new process
        second = start_early()
        assert second is not None and second.reused and second.url == first.url and second.process is None

        first.lease.unlink()  # no run holds the lease any more: the server stops by itself
        assert first.process.wait(timeout=60) == 0
    finally:
        if first is not None and first.process is not None and first.process.poll() is None:
            first.stop()
    monkeypatch.delenv("PREFECT_API_URL")
    third = start_early()
    try:
        assert not third.reused, "a server that is gone is not reused: a new one starts"
    finally:
        third.stop()
