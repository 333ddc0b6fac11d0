"""The pipeline's preflight: one uncached probe per model of a role the run calls, recorded in the run's ledger.

Runs before the first stage (see `magnet_core.llm.preflight`); a failure raises `PreflightError`, which
the pipeline turns into a Failed run with its one-line message (flows/setup_failures.py), before any
shard could turn a bad key into rejects.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence

from magnet_core.llm.ledger import Ledger
from magnet_core.llm.preflight import preflight
from magnet_core.llm.types import ModelConfig
from tasks.llm_usage import LLMSettings, shared_budget
from tasks.workspace import Workspace


def preflight_models(models: Sequence[tuple[tuple[str, ...], ModelConfig]], llm: LLMSettings,
                     workspace: Workspace, aliases: Mapping[ModelConfig, str] | None = None) -> int:
    """Probe each model (no cache: a stored answer proves nothing about today's key); returns the count."""
    if not models:
        return 0
    from magnet_core.llm.client import LLMClient

    client = LLMClient(cache_dir=None)
    client.budget = shared_budget(workspace.run_id, llm.max_cost_usd)
    client.ledger = Ledger(journal=workspace.ledger_dir / f"preflight-{uuid.uuid4().hex[:8]}.jsonl")
    try:
        asyncio.run(preflight(client, list(models), aliases))
    finally:
        client.ledger.close_journal()
    return len(models)
