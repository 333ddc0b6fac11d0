"""The Prefect options every stage task shares: cross-run cache key, persisted result, retry policy.

Results are persisted under the workspace (`bind` points a task at it), so a later process finds a
finished shard's record by its cache key and returns it as a `Cached` state without running the shard.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from prefect import Task, task

from tasks.cache_keys import cache_key_fn_for
from tasks.retry_policy import RETRY_OPTIONS, retry_condition


def stage_task(stage: str, *, name: str | None = None, retries: bool = True) -> Callable[[Callable], Task]:
    options: dict[str, Any] = {
        "name": name or stage.replace("_", "-"),
        "cache_key_fn": cache_key_fn_for(stage),
        "persist_result": True,
        "retry_condition_fn": retry_condition,
        "log_prints": False,
    }
    if retries:
        options.update(RETRY_OPTIONS)
    return task(**options)


@lru_cache(maxsize=256)
def _bound(task_object: Task, results_dir: str) -> Task:
    return task_object.with_options(result_storage=Path(results_dir))


def bind(task_object: Task, results_dir: Path) -> Task:
    """The task with its results (the cache records) stored in `results_dir`."""
    return _bound(task_object, str(results_dir))
