"""Shared fixtures. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def bfcl_pool():
    from magnet_core.pools import load_pool

    return load_pool("bfcl")


@pytest.fixture(scope="session")
def prefect_harness():
    """One embedded Prefect server for the whole session (10-30 s to start), shared by every area that
    runs flows (orchestration, MCP pipelines); started only by tests that ask for it, never autouse."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"))):
        from prefect.settings import PREFECT_API_URL

        yield PREFECT_API_URL.value()
