"""Where shard tasks run: one thread in the flow's process (default) or Dask worker processes (scale-out).

The choice is a setting, not code: the same flow runs its shards on a `ThreadPoolTaskRunner`, on a
Dask `LocalCluster` it starts, or on an existing Dask scheduler. Shard outputs are files under the
workspace, so Dask workers on other machines need that directory on a shared filesystem. LLM-bound
shards get their concurrency inside the shard (the client's async calls); CPU-bound shards scale with
processes, since the GIL serialises threads.

Settings that would make the data depend on timing are refused: executable backends keep
process-global state (BFCL's MathAPI sets mpmath's process-wide precision), so two shards running as
threads of one process can change each other's outputs. One thread per process, always.

Dask workers report to the flow's Prefect API: when the flow runs on the temporary local server, its
address is handed to the workers (through the task's settings context), so no worker starts a
temporary server of its own (~225 MiB and seconds of start-up each).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

THREAD_UNSAFE = ("several shards as threads of one process share process-global backend state (BFCL's MathAPI "
                 "sets mpmath's precision for the whole process), which makes outputs timing-dependent")


class RunnerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["thread", "dask"] = Field("thread", description="thread: in the flow's process; dask: worker processes")
    max_workers: int = Field(
        1, ge=1, le=256,
        description="Shards in flight. thread: must be 1 (threads of one process share backend state); "
                    "dask: local worker processes.")
    dask_address: str | None = Field(
        None, description="tcp://host:8786 of an existing Dask scheduler; empty = start a local cluster"
    )
    dask_processes: bool = Field(True, description="Local cluster: worker processes (the only deterministic choice "
                                                   "with more than one worker)")
    dask_threads_per_worker: int = Field(1, ge=1, le=1, description="One shard per worker process at a time")

    @model_validator(mode="after")
    def _check(self) -> "RunnerSettings":
        if self.dask_address and self.kind != "dask":
            raise ValueError("dask_address is only used with kind='dask'")
        if self.dask_address and not self.dask_address.startswith(("tcp://", "tls://", "inproc://", "ws://")):
            raise ValueError("dask_address must be a scheduler URL such as tcp://127.0.0.1:8786")
        if self.kind == "thread" and self.max_workers > 1:
            raise ValueError(f"runner kind 'thread' with max_workers={self.max_workers} refused: {THREAD_UNSAFE}. "
                             "Use kind 'dask' (worker processes) for parallel shards.")
        if self.kind == "dask" and not self.dask_processes and self.max_workers > 1 and not self.dask_address:
            raise ValueError(f"dask_processes=false with max_workers={self.max_workers} refused: {THREAD_UNSAFE}.")
        return self


def _flow_api_url() -> str | None:
    """The Prefect API this process talks to: the configured one, or the temporary server it started."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return PREFECT_API_URL.value()
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer._instances.get(None)
    return server.api_url if server is not None and server.running else None


# What a local cluster runs by default for its dashboard (off here): a statistical profiler sampling each
# worker's task thread every 10 ms, and monitors polling psutil several times a second in every worker and
# in the flow's process. They cost the shards CPU a thread runner never pays; a local cluster is started
# under this config (its nannies hand it to the worker processes). An existing cluster's is its own.
QUIET_LOCAL_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.admin.tick.interval": "500ms",
}


def _dask_runner(settings: RunnerSettings):
    from flows.dask_runner import LeanDaskTaskRunner as DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    cluster_kwargs: dict[str, Any] = {
        "n_workers": settings.max_workers,
        "threads_per_worker": settings.dask_threads_per_worker,
        "processes": settings.dask_processes,
        "dashboard_address": None,
    }
    if settings.dask_processes:  # in-process clusters talk over inproc://, which takes no host
        cluster_kwargs["host"] = "127.0.0.1"
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster_kwargs)


def check_one_thread_per_worker(runner: Any) -> None:
    """An existing cluster's workers are not ours to configure: refuse one whose workers run threads."""
    threads = runner.client.nthreads()
    crowded = {worker: n for worker, n in threads.items() if n > 1}
    if crowded:
        raise ValueError(f"Dask workers with more than one thread refused ({crowded}): {THREAD_UNSAFE}. "
                         "Start the workers with --nthreads 1.")


@contextmanager
def build_task_runner(settings: RunnerSettings) -> Iterator[Any]:
    """The started task runner. Dask tasks carry the flow's API address, so workers start no server."""
    if settings.kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        with ThreadPoolTaskRunner(max_workers=settings.max_workers) as runner:
            yield runner
        return
    import dask
    import distributed  # noqa: F401 - its config defaults first: a set over a missing section removes it on exit
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api_url = _flow_api_url()
    updates = {PREFECT_API_URL: api_url} if api_url else {}
    quiet = {} if settings.dask_address else QUIET_LOCAL_CLUSTER
    with temporary_settings(updates=updates), dask.config.set(quiet), _dask_runner(settings) as runner:
        if settings.dask_address:
            check_one_thread_per_worker(runner)
        yield runner


def _pool_snapshot(pool: Any) -> bytes | None:
    """The flow's loaded pool, pickled once for every worker; None if it does not pickle (the workers then
    load it from its source, as a task would)."""
    import cloudpickle

    from tasks.outputs import open_pool

    try:
        return cloudpickle.dumps(open_pool(pool))
    except Exception:  # noqa: BLE001 - e.g. a Python pool whose session factory holds a live handle
        return None


def _warm(pool: Any, intake: Any, snapshot: bytes | None) -> int:
    """On a worker: import what the stage tasks run, take the flow's pool (or load it) and load the BFCL
    index (both memoised per process); a failure here is only a missed head start - the task that needs
    them loads them and reports."""
    try:
        import pickle

        from magnet_core.dataset.stage import contamination_check
        from tasks.outputs import open_pool, prime_pool
        from tasks.synthesis_tasks import distill_shard_task  # noqa: F401 - the stages' imports

        if snapshot is not None:
            prime_pool(pool, pickle.loads(snapshot))
        open_pool(pool)
        contamination_check(intake.assemble_config())
        return 1
    except Exception:  # noqa: BLE001 - see the docstring
        return 0


def warm_workers(runner: Any, pool: Any, intake: Any) -> list[Any]:
    """Dask only: every worker imports the stage modules, takes the flow's loaded pool (parsing and checking
    5,011 schemas costs ~6 s per process; unpickling them ~20 ms) and loads the BFCL index now, while the
    flow builds the graph and the plans, instead of in its first shard.

    Plain Dask futures, not task runs: nothing appears in Prefect. Keep the returned futures until the
    shards are submitted (a dropped future may be cancelled); [] for the thread runner."""
    if not isinstance(getattr(type(runner), "client", None), property):  # the thread runner has no workers
        return []
    client = runner.client  # starts the cluster now (it would start at the first shard)
    workers = list(client.scheduler_info().get("workers", {}))
    snapshot = _pool_snapshot(pool)
    return [client.submit(_warm, pool, intake, snapshot, workers=[address], allow_other_workers=False, pure=False)
            for address in workers]
