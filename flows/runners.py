"""Where shard tasks run: threads in the flow's process (default) or a Dask cluster (scale-out).

The choice is a setting, not code: the same flow runs its shards on a `ThreadPoolTaskRunner`, on a
Dask `LocalCluster` it starts, or on an existing Dask scheduler. Shard outputs are files under the
workspace, so Dask workers on other machines need that directory on a shared filesystem. LLM-bound
shards get their concurrency inside the shard (the client's async calls); CPU-bound shards scale with
processes, since the GIL serialises threads and some backends keep process-global state.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RunnerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["thread", "dask"] = Field("thread", description="thread: in-process pool; dask: a Dask cluster")
    max_workers: int = Field(
        1, ge=1, le=256,
        description="Shards in flight: threads, or local Dask workers. Executable backends may keep process-global "
                    "state (BFCL's math functions set mpmath's global precision), so several threads in one process "
                    "can make outputs timing-dependent: for parallel shards use Dask worker processes.")
    dask_address: str | None = Field(
        None, description="tcp://host:8786 of an existing Dask scheduler; empty = start a local cluster"
    )
    dask_processes: bool = Field(True, description="Local cluster: worker processes (deterministic) instead of threads")
    dask_threads_per_worker: int = Field(1, ge=1, le=64)

    @model_validator(mode="after")
    def _check(self) -> "RunnerSettings":
        if self.dask_address and self.kind != "dask":
            raise ValueError("dask_address is only used with kind='dask'")
        if self.dask_address and not self.dask_address.startswith(("tcp://", "tls://", "inproc://", "ws://")):
            raise ValueError("dask_address must be a scheduler URL such as tcp://127.0.0.1:8786")
        return self


def build_task_runner(settings: RunnerSettings):
    if settings.kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=settings.max_workers)
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    cluster_kwargs = {
        "n_workers": settings.max_workers,
        "threads_per_worker": settings.dask_threads_per_worker,
        "processes": settings.dask_processes,
        "dashboard_address": None,
    }
    if settings.dask_processes:  # in-process clusters talk over inproc://, which takes no host
        cluster_kwargs["host"] = "127.0.0.1"
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster_kwargs)
