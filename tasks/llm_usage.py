"""One LLM client per shard, a budget shared by the run, and a ledger part per shard.

The client's admission state is bound to an event loop and stages run `asyncio.run` per shard, so each
shard task gets its own `LLMClient` (same on-disk response cache). The spending cap and each model's
concurrency limit are per run, not per shard nor per process: every client of the run, in any worker
process, adds its spend to and takes its call slots from one shared store (`llm.shared_store`: files
under the run directory by default, Redis for workers on several machines), keyed by the flow run, so
a resumed run counts afresh as a new process always did. Each client's call records are appended to a
journal as calls finish and written as one Parquet part at the end of the shard under the run's ledger
directory: the factory's own ledger, complete even when Prefect's history is trimmed or a process is killed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from magnet_core.llm.budget import Budget
from magnet_core.llm.ledger import Ledger
from magnet_core.llm.shared_state import SharedStore, store_for
from tasks.workspace import Workspace

_BUDGETS: dict[tuple[str, float | None, str | None], Budget] = {}
_LOCK = threading.Lock()


class LLMSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cache_dir: str | None = Field(None, description="LLM response cache (default: <workspace>/llm-cache)")
    max_cost_usd: float | None = Field(None, ge=0, description="Spending cap for the run; reaching it fails the run cleanly")
    shared_store: str | None = Field(
        None, description="Where worker processes share the run's spend and call slots: empty = files under the "
                          "run directory (one machine); redis://host:6379/0 for Dask workers on several machines")
    retry_transient_rejects: bool = Field(
        True, description="Retry a shard whose items were rejected for transient LLM failures instead of caching the rejects")


class ShardUsage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    refused_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0
    ledger_part: str | None = None


def _execution_id(workspace: Workspace) -> str:
    """The flow run this shard belongs to (the same in every worker process), else the run id."""
    try:
        from prefect.runtime import flow_run

        return str(flow_run.id or workspace.run_id)
    except Exception:  # noqa: BLE001 - outside a flow: the run id names the run
        return workspace.run_id


def run_store(llm: LLMSettings, workspace: Workspace) -> SharedStore:
    execution = _execution_id(workspace)
    return store_for(llm.shared_store, workspace.run_dir / "llm-shared" / execution,
                     prefix=f"magnet:{workspace.run_id}:{execution}")


def attempt_tags() -> dict[str, str | int]:
    """Which Prefect task run and attempt made these calls: cost rows sum a task run's every attempt."""
    from prefect.runtime import task_run

    return {"task_run_id": str(task_run.id or ""), "task_run": str(task_run.name or ""),
            "attempt": int(task_run.run_count or 1)}


def tag_ledger_part(path: Path, tags: dict[str, str | int]) -> None:
    """Add the attempt's tags as constant columns to a ledger part (the ledger itself knows no Prefect)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for name, value in tags.items():
        table = table.append_column(name, [[value] * table.num_rows])
    pq.write_table(table, path)


def shared_budget(run_id: str, max_cost_usd: float | None, store: SharedStore | None = None) -> Budget:
    key = (run_id, max_cost_usd, repr(store.__reduce__()) if store is not None else None)
    with _LOCK:
        return _BUDGETS.setdefault(key, Budget(max_cost_usd, store))


class ShardClient:
    """Holds the client (None for offline stages) and, after the shard, its usage."""

    def __init__(self, client) -> None:
        self.client = client
        self.usage = ShardUsage()


@contextmanager
def shard_client(llm: LLMSettings, workspace: Workspace, stage: str, key: str, needed: bool) -> Iterator[ShardClient]:
    if not needed:
        yield ShardClient(None)
        return
    from magnet_core.llm.client import LLMClient

    cache_dir = Path(llm.cache_dir) if llm.cache_dir else Path(workspace.root) / "llm-cache"
    client = LLMClient(cache_dir=cache_dir)
    store = run_store(llm, workspace)
    client.budget = shared_budget(workspace.run_id, llm.max_cost_usd, store)
    client.shared = store
    # one journal (then one part) per attempt: a retried shard keeps the records (and costs) of its failed try,
    # and a killed one leaves its journal, so every call that finished is on record
    client.ledger = Ledger(journal=workspace.ledger_dir / f"{key}-{uuid.uuid4().hex[:8]}.jsonl")
    holder = ShardClient(client)
    try:
        yield holder
    finally:
        part = client.ledger.close_journal()
        if part is not None:
            tag_ledger_part(part, attempt_tags())
        run = client.totals().run
        holder.usage = ShardUsage(
            calls=run.calls, cached_calls=run.cached_calls, failed_calls=run.failed_calls,
            refused_calls=run.refused_calls, prompt_tokens=run.prompt_tokens,
            completion_tokens=run.completion_tokens, cost_usd=round(run.cost_usd, 8), retries=run.retries,
            ledger_part=str(part) if part else None,
        )
