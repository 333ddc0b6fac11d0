"""The steps a flow takes per stage: submit shard tasks, wait, check their files, report.

Shared by the per-stage flows and the pipeline flow so that both run a stage the same way. A cached
result whose file has since been deleted is recomputed (`refresh_cache`) rather than trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import Task

from flows.progress import StageProgress, wait_for_shards
from magnet_core.llm.types import BudgetExceededError
from tasks.intake_models import IntakeOutput
from tasks.options import bind
from tasks.refs import ArtifactRef
from tasks.shards import split_into_shards
from tasks.synthesis_tasks import SINGLE_TURN_KINDS, pack_single_turn, single_turn_shards, split_single_turn
from tasks.workspace import Workspace


class BudgetStop(RuntimeError):
    """The spending cap stopped a stage: the run ends Failed with a resumable message, not a crash."""

    def __init__(self, stage: str, unfinished: list[str], cause: BaseException):
        self.stage, self.unfinished, self.cause = stage, unfinished, cause
        shown = ", ".join(unfinished[:20]) + (" ..." if len(unfinished) > 20 else "")
        super().__init__(
            f"budget cap reached in stage {stage}: {len(unfinished)} shard(s) unfinished ({shown}). "
            f"{str(cause).rstrip('.')}. "
            "Finished shards are cached: re-run with a higher llm.max_cost_usd to resume the unfinished ones.")


def _refs_in(value: Any) -> list[ArtifactRef]:
    if isinstance(value, IntakeOutput):  # a prepared shard rides along; if gone it is remade, not its output
        return []
    if isinstance(value, ArtifactRef):
        return [value]
    fields = getattr(type(value), "model_fields", None)
    if fields:
        return [ref for name in fields for ref in _refs_in(getattr(value, name))]
    if isinstance(value, (list, tuple)):
        return [ref for item in value for ref in _refs_in(item)]
    return []


def files_present(result: Any) -> bool:
    return all(Path(ref.path).exists() for ref in _refs_in(result))


def run_single(task: Task, **parameters: Any) -> tuple[Any, str]:
    """Run one stage task in the flow's thread -> (result, state name, e.g. "Cached").

    Recomputes when a cached output's files are gone. Failures raise, as a direct task call would.
    """
    workspace: Workspace = parameters["workspace"]
    bound = bind(task, workspace.results)
    state = bound(**parameters, return_state=True)
    result = state.result()
    if not files_present(result):
        state = bound.with_options(refresh_cache=True)(**parameters, return_state=True)
        result = state.result()
    return result, state.name


@dataclass
class SubmittedStage:
    """A stage's shard tasks, submitted to the runner and not yet waited for (`finish_shards`)."""

    stage: str
    bound: Task
    parameters: list[dict[str, Any]]
    labels: list[str]
    futures: list[Any]


def submit_shards(stage: str, task: Task, runner: Any, workspace: Workspace, shard_parameters: list[dict[str, Any]],
                  labels: list[str]) -> SubmittedStage:
    bound = bind(task, workspace.results)
    return SubmittedStage(stage, bound, shard_parameters, labels, [runner.submit(bound, params) for params in shard_parameters])


def finish_shards(submitted: SubmittedStage, runner: Any) -> StageProgress:
    """Wait for all of a stage's shards, recompute those whose cached files are gone, and turn a budget
    stop into `BudgetStop` (any other failure into one RuntimeError naming the first)."""
    stage, bound, shard_parameters, labels = submitted.stage, submitted.bound, submitted.parameters, submitted.labels
    progress = wait_for_shards(stage, submitted.futures)
    stale = [i for i, result in enumerate(progress.results) if result is not None and not files_present(result)]
    if stale:
        refreshed = wait_for_shards(stage, [runner.submit(bound.with_options(refresh_cache=True), shard_parameters[i])
                                            for i in stale])
        for position, index in enumerate(stale):
            progress.results[index] = refreshed.results[position]
            progress.task_run_ids[index] = refreshed.task_run_ids[position]
            progress.state_names[index] = refreshed.state_names[position]
        progress.failures += [(stale[i], error) for i, error in refreshed.failures]
    budget = [error for _, error in progress.failures if isinstance(error, BudgetExceededError)]
    if budget:
        unfinished = [labels[index] for index, _ in progress.failures]
        raise BudgetStop(stage, unfinished, budget[0])
    if progress.failures:
        index, error = progress.failures[0]
        raise RuntimeError(f"{stage}: {len(progress.failures)} shard(s) failed; first ({labels[index]}): {error!r}") from error
    return progress


def run_shards(stage: str, task: Task, runner: Any, workspace: Workspace, shard_parameters: list[dict[str, Any]],
               labels: list[str]) -> StageProgress:
    """Submit one task per shard to `runner` and wait for all (`finish_shards`)."""
    return finish_shards(submit_shards(stage, task, runner, workspace, shard_parameters, labels), runner)


def bounded_shard_size(items: int, shard_size: int, max_shards: int) -> int:
    """`shard_size`, grown so that `items` make at most `max_shards` tasks.

    Prefect's history of a flow run keeps about 2,000 task runs and each task costs tens of ms of
    orchestration, so a stage of 30,000 items gets bigger shards rather than thousands of tasks. Shard
    boundaries never change what an item becomes, only how items are grouped."""
    return max(shard_size, -(-items // max(1, max_shards)))


def shard_parameters(source: ArtifactRef, shard_size: int, max_shards: int | None = None,
                     **fixed: Any) -> tuple[list[dict[str, Any]], list[str]]:
    if max_shards is not None:
        shard_size = bounded_shard_size(source.count, shard_size, max_shards)
    shards = split_into_shards(source, shard_size)
    labels = [f"shard {shard.index} (items {shard.start}-{shard.stop - 1})" for shard in shards]
    return [{"shard": shard, **fixed} for shard in shards], labels


def single_turn_pieces(config: Any, configs: list[Any] | None = None) -> list[Any]:
    """Single-turn shards of `config` (a PipelineConfig): about 4 x shard_size samples each (a single-turn
    sample costs a fraction of a multi-turn one), at most `max_shards_per_stage` of them.
    `configs` are one-kind configs (default: one per kind of `config.single_turn`); small kinds that
    start together share a shard."""
    configs = single_turn_shards(config.single_turn) if configs is None else configs
    total = sum(getattr(c, kind) for c in configs for kind in SINGLE_TURN_KINDS)
    size = bounded_shard_size(total, 4 * config.shard_size, config.max_shards_per_stage)
    return pack_single_turn(split_single_turn(configs, size), size)
