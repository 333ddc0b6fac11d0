"""Prefect's Dask task runner without its per-task set-up cost: the same task runs, states, logs and results.

Measured at paper scale x0.1 (432 task runs on 2 local workers, 2 cores), `prefect_dask` spends more CPU
setting each task up than a small shard spends working:
- the flow serialises its whole Prefect settings for every submit (~25 ms; 40% of the flow's CPU);
- every worker rebuilds those settings from scratch (pydantic-settings re-reads the environment, ~45 ms)
  and opens two new API clients, each loading the certificate store (~65 ms under load) to talk plain
  HTTP to the local server.
Here the settings are serialised once per settings object on the flow side and hydrated once per worker
process; each worker process keeps one API client open for every task it runs. Everything else is
Prefect's own engine (`run_task_sync`): the task run is created, orchestrated and logged as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any
from uuid import uuid4

import distributed
from prefect.context import (
    AssetContext,
    EngineContext,
    SettingsContext,
    SyncClientContext,
    TagsContext,
    TaskRunContext,
    _deployment_id,
    _deployment_parameters,
)
from prefect.task_engine import run_task_async, run_task_sync
from prefect.utilities.engine import collect_task_run_inputs_sync
from prefect_dask import DaskTaskRunner
from prefect_dask.task_runners import PrefectDaskFuture


def task_context(task: Any, task_run_id: Any, dependencies: dict[str, Any]) -> dict[str, Any]:
    """`prefect.context.serialize_context` for a task submitted to a worker, less the settings
    (`settings_context` is empty: the worker enters the cached settings itself, see `run_on_worker`)."""
    flow_run_context, task_run_context, tags_context = EngineContext.get(), TaskRunContext.get(), TagsContext.get()
    deployment_id = _deployment_id.get()
    return {
        "flow_run_context": flow_run_context.serialize() if flow_run_context else {},
        "task_run_context": task_run_context.serialize() if task_run_context else {},
        "tags_context": tags_context.serialize() if tags_context else {},
        "settings_context": {},
        "asset_context": AssetContext.from_task_and_inputs(
            task=task, task_run_id=task_run_id, task_inputs=dependencies, copy_to_child_ctx=True).serialize(),
        "deployment_id": str(deployment_id) if deployment_id else None,
        "deployment_parameters": _deployment_parameters.get(),
    }


class LeanDaskTaskRunner(DaskTaskRunner):
    """`DaskTaskRunner` whose submit sends the settings once-serialised and runs `run_on_worker`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._settings_seen: tuple[Any, str, dict[str, Any]] | None = None

    def _settings(self) -> tuple[str, dict[str, Any]]:
        current = SettingsContext.get()
        if self._settings_seen is None or self._settings_seen[0] is not current:
            serialized = current.serialize()
            digest = hashlib.sha256(json.dumps(serialized, sort_keys=True, default=str).encode()).hexdigest()
            self._settings_seen = (current, digest, serialized)
        return self._settings_seen[1], self._settings_seen[2]

    def submit(self, task: Any, parameters: dict[str, Any], wait_for: Any = None,
               dependencies: dict[str, set[Any]] | None = None) -> PrefectDaskFuture[Any]:
        if not self._started:
            raise RuntimeError("The task runner must be started before submitting work.")
        parameters = self._optimize_futures(parameters)
        wait_for = self._optimize_futures(wait_for) if wait_for else None
        inputs = {name: collect_task_run_inputs_sync(value, future_cls=distributed.Future) for name, value in parameters.items()}
        for name, extra in (dependencies or {}).items():
            inputs[name] = inputs.get(name, set()) | set(extra)
        task_run_id = uuid4()
        settings_key, settings = self._settings()
        future = self.client.submit(  # a plain function: PrefectDaskClient passes it straight to Dask
            run_on_worker, pure=False, key=f"{task.name}-{task_run_id}",
            task=task, task_run_id=task_run_id, parameters=parameters, wait_for=wait_for, dependencies=inputs, return_type="state",
            context=task_context(task, task_run_id, inputs), settings_key=settings_key, settings=settings)
        return PrefectDaskFuture[Any](wrapped_future=future, task_run_id=task_run_id)


# ---- on the worker ----------------------------------------------------------------------------------------
_HYDRATED: OrderedDict[str, tuple[SettingsContext, SyncClientContext]] = OrderedDict()
_HYDRATING = threading.Lock()
KEPT_SETTINGS = 4  # a long-lived cluster serves many flow runs (each its own API address): keep the latest few


def _hydrated(settings_key: str, settings: dict[str, Any]) -> tuple[SettingsContext, SyncClientContext]:
    """This process's settings and its open API client for them, built on first use."""
    with _HYDRATING:
        if settings_key in _HYDRATED:
            _HYDRATED.move_to_end(settings_key)
        else:
            while len(_HYDRATED) >= KEPT_SETTINGS:  # one task at a time per worker: the oldest is idle
                _, (_, stale) = _HYDRATED.popitem(last=False)
                stale.client.__exit__(None, None, None)  # its context var lived in the task that made it
            settings_context = SettingsContext(**settings)
            token = SettingsContext.__var__.set(settings_context)
            try:
                clients = SyncClientContext()  # reads the API URL from the settings just set
                clients.__enter__()  # opened once, kept open for the life of the process
            finally:
                SettingsContext.__var__.reset(token)
            _HYDRATED[settings_key] = (settings_context, clients)
        return _HYDRATED[settings_key]


def run_on_worker(*, settings_key: str, settings: dict[str, Any], **run_task_kwargs: Any) -> Any:
    """Run one Prefect task on this worker under the flow's settings, with the process's API client."""
    settings_context, clients = _hydrated(settings_key, settings)
    settings_token = SettingsContext.__var__.set(settings_context)
    client_token = SyncClientContext.__var__.set(clients)  # the engine's get_or_create finds it: no new client
    try:
        if run_task_kwargs["task"].isasync:
            return asyncio.run(run_task_async(**run_task_kwargs))
        return run_task_sync(**run_task_kwargs)
    finally:
        SyncClientContext.__var__.reset(client_token)
        SettingsContext.__var__.reset(settings_token)
