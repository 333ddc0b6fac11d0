"""Wait for a stage's shard futures while a progress artifact in the UI follows them.

Failures are collected, not raised at the first one: the other shards keep running (their results are
cached for the re-run), and the caller decides how the run ends (budget cap -> a clear Failed state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.futures import as_completed


@dataclass
class StageProgress:
    stage: str
    results: list[Any] = field(default_factory=list)  # in submission order; None where the shard failed
    failures: list[tuple[int, BaseException]] = field(default_factory=list)
    state_names: list[str] = field(default_factory=list)  # "Completed", "Cached", "Failed" per shard
    task_run_ids: list[str] = field(default_factory=list)  # per shard: names its cost row and log lines

    @property
    def cached(self) -> int:
        return self.state_names.count("Cached")

    @property
    def ok(self) -> bool:
        return not self.failures


PROGRESS_UPDATES = 50  # per stage at most, plus one per failure: a stage of 300 shards moves it every 2%


def wait_for_shards(stage: str, futures: list[Any]) -> StageProgress:
    progress = StageProgress(stage=stage, results=[None] * len(futures), state_names=[""] * len(futures),
                             task_run_ids=[str(future.task_run_id) for future in futures])
    if not futures:
        return progress
    artifact_id = create_progress_artifact(
        progress=0.0, key=f"{stage.replace('_', '-')}-progress",
        description=f"{stage}: 0/{len(futures)} shards")
    position = {id(future): index for index, future in enumerate(futures)}
    step = max(1, len(futures) // PROGRESS_UPDATES)
    for done, future in enumerate(as_completed(futures), start=1):
        index = position[id(future)]
        failed = len(progress.failures)
        try:
            progress.results[index] = future.result()
        except Exception as error:  # noqa: BLE001 - a failed shard is recorded; the run decides
            progress.failures.append((index, error))
        progress.state_names[index] = future.state.name
        if done % step and done < len(futures) and len(progress.failures) == failed:
            continue  # an update is an API write the server pays for; a failure is shown at once
        update_progress_artifact(
            artifact_id=artifact_id, progress=100.0 * done / len(futures),
            description=f"{stage}: {done}/{len(futures)} shards ({len(progress.failures)} failed)")
    return progress
