"""The pipeline: pool -> graph -> plans -> translate -> distill -> assemble -> SFT -> mDPO (-> evaluate).

Evaluation runs when `config.evaluation` is set (the evaluate flow always runs it) and needs training.

`run_pipeline(config, until=stage)` runs the stages up to `stage`; every stage flow is that, so each
stage can be launched alone from the UI and its upstream stages come from the cache. A killed run
re-run with the same config resumes: finished shards are `Cached`, the rest run, and the dataset (a
content-addressed version) is byte-for-byte the one an uninterrupted run writes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from prefect.states import Failed

from flows.configs import PipelineConfig
from flows.model_roles import roles_this_run
from flows.reporting import publish_cost_table, publish_spend, publish_summary, publish_task_costs, task_cost_rows
from flows.stage_report import StageShortfall, report_stage, stage_row
from flows.runners import build_task_runner, warm_workers
from flows.setup_failures import quiet_failure_message, quiet_setup_tracebacks
from flows.sizing import SizingState
from flows.steps import BudgetStop, SubmittedStage, finish_shards, run_shards, run_single, shard_parameters, single_turn_pieces, submit_shards
from flows.training_flow import train
from magnet_core.llm.preflight import PreflightError
from tasks.dataset_tasks import assemble_task, available_task
from tasks.intake_tasks import IntakeOutput, IntakeSettings, carried_intake, intake_task
from tasks.preflight import preflight_models
from tasks.evaluation_tasks import EvaluationSettings, evaluate_task
from tasks.synthesis_tasks import (
    distill_shard_task,
    graph_task,
    label_pool_task,
    plans_task,
    pool_task,
    single_turn_task,
    translate_shard_task,
)
from tasks.workspace import Workspace

STAGES = ("pool", "graph", "plans", "translate", "distill", "assemble", "train_sft", "train_mdpo", "evaluate")
UNWIRED: frozenset[str] = frozenset()  # stages whose entry point is not wired yet: skipped, with a note
Intakes = dict[str, list[IntakeOutput]]  # prepared shards of the translated and the distilled outputs, by round


def _single_turn(config: PipelineConfig, single_configs: list[Any], pool: Any, workspace: Workspace, suffix: str,
                 intake: IntakeSettings) -> tuple[list[dict[str, Any]], list[str]]:
    """The single-turn shard tasks' parameters and labels of one round."""
    params = [{"pool": pool, "config": c, "llm": config.llm, "workspace": workspace, "intake": intake}
              for c in single_turn_pieces(config, single_configs)]
    return params, [f"single_turn{suffix} shard {index}" for index in range(len(params))]


def _submit_single_turn_early(config: PipelineConfig, sizes: SizingState, pool: Any, runner: Any, workspace: Workspace,
                              intake: IntakeSettings) -> SubmittedStage | None:
    """Round one's single-turn shards need only the pool when a target sizes them: submitted before the
    graph is built, they keep worker processes busy while the flow builds the graph and the plans."""
    configs = sizes.single_turn_early()
    if not configs:
        return None
    params, labels = _single_turn(config, configs, pool, workspace, "", intake)
    return submit_shards("single_turn", single_turn_task, runner, workspace, params, labels) if params else None


def _synthesize(config: PipelineConfig, stages: Any, pool: Any, plans: Any, single_configs: list[Any], distill_too: bool, runner: Any,
                workspace: Workspace, summary: dict[str, Any], task_rows: list[tuple[str, int, str, str, Any]],
                suffix: str, intakes: Intakes, intake: IntakeSettings, early: SubmittedStage | None = None) -> tuple[list[Any], list[Any]]:
    """One round: translate the plans (if any), distill them, and generate the single-turn shards (`early`:
    those already submitted); when distilling, every shard output is also prepared for assembly (by its
    own task, else `intake_task`), appended to `intakes`."""
    translated: list[Any] = []
    prepare = {"intake": intake} if distill_too else {}  # each shard task prepares its output as it finishes
    if plans is not None:
        params, labels = shard_parameters(plans.ref, config.shard_size, config.max_shards_per_stage, pool=pool,
                                          config=stages.translate, llm=config.llm, workspace=workspace, **prepare)
        progress = finish_shards(submit_shards("translate" + suffix, translate_shard_task, runner, workspace, params, labels), runner)
        translated = progress.results
        task_rows += _shards("translate" + suffix, progress)
        _report(summary, stage_row("translate" + suffix, translated, progress.state_names), config)
    distilled: list[Any] = []
    if distill_too:
        distill = [{"pool": pool, "translated": out, "config": stages.distill, "llm": config.llm, "workspace": workspace, **prepare}
                   for out in translated]
        for stage, task, (params, labels) in (
            ("distill", distill_shard_task, (distill, [f"distill{suffix} shard {index}" for index in range(len(distill))])),
            ("single_turn", single_turn_task, _single_turn(config, single_configs, pool, workspace, suffix, intake)),
        ):
            if not params:
                continue
            if stage == "single_turn" and early is not None:
                if early.parameters != params:
                    raise RuntimeError("the single-turn shards submitted early are not the round's shards")
                submitted = early
            else:
                submitted = submit_shards(stage + suffix, task, runner, workspace, params, labels)
            progress = finish_shards(submitted, runner)
            distilled += progress.results
            task_rows += _shards(stage + suffix, progress)
            _report(summary, stage_row(stage + suffix, progress.results, progress.state_names), config)
        prepared = _prepare(translated + distilled, intake, runner, workspace, suffix)
        intakes["translated"] += prepared[:len(translated)]  # kept apart: assembly reads them in the order
        intakes["distilled"] += prepared[len(translated):]  # translated (every round), then distilled
    return translated, distilled


def _in_order(intakes: Intakes) -> list[IntakeOutput]:
    return intakes["translated"] + intakes["distilled"]


def _prepare(outputs: list[Any], settings: IntakeSettings, runner: Any, workspace: Workspace, suffix: str) -> list[IntakeOutput]:
    """Per shard output, its prepared shard (the per-sample pass assembly and the measure need): the one its
    task made, else one `intake_task` makes, on the runner (in parallel, cached)."""
    prepared: list[IntakeOutput | None] = [carried_intake(output, settings) for output in outputs]
    missing = [index for index, shard in enumerate(prepared) if shard is None]
    params = [{"output": outputs[i], "settings": settings, "workspace": workspace} for i in missing]
    labels = [f"intake{suffix} of {outputs[i].stage} shard {i}" for i in missing]
    made = run_shards("intake" + suffix, intake_task, runner, workspace, params, labels).results if params else []
    for index, shard in zip(missing, made):
        prepared[index] = shard
    return prepared


def _top_up_rounds(config: PipelineConfig, stages: Any, sizes: SizingState, pool: Any, graph: Any, runner: Any, workspace: Workspace,
                   summary: dict[str, Any], task_rows: list[tuple[str, int, str, str, Any]], translated: list[Any],
                   distilled: list[Any], intakes: Intakes, intake: IntakeSettings) -> tuple[list[Any], list[Any]]:
    """Measure what reaches the mixture; run another round for the categories still short (deterministic)."""
    while sizes.rounds_left > 0:  # measuring reads every sample once: only when another round could follow
        available, _ = run_single(available_task, intakes=_in_order(intakes), settings=intake,
                                  workspace=workspace)  # cached: a warm re-run reads no sample to measure
        sft_available, pref_available = available["sft"], available["preference"]
        extra = sizes.top_up(sft_available, pref_available)
        if extra is None:
            return translated, distilled
        plans_config, single_configs = extra
        suffix = f"-topup{len(sizes.rounds) - 1}"  # artifact keys take letters, digits and dashes
        plans = None
        if plans_config is not None:
            plans, state = run_single(plans_task, pool=pool, graph=graph, config=plans_config, workspace=workspace)
            summary["stages"].append(stage_row("plans" + suffix, [plans], [state]))
            sizes.note_paths(plans.summary)
        more_translated, more_distilled = _synthesize(config, stages, pool, plans, single_configs, True, runner, workspace,
                                                      summary, task_rows, suffix, intakes, intake)
        translated, distilled = translated + more_translated, distilled + more_distilled
    return translated, distilled


def run_pipeline(config: PipelineConfig, until: str = "train_mdpo") -> dict[str, Any] | Any:
    if until not in STAGES:
        raise ValueError(f"unknown stage {until!r}; stages: {STAGES}")
    wanted = set(STAGES[: STAGES.index(until) + 1])
    if config.training is None and wanted & {"train_sft", "train_mdpo", "evaluate"}:
        raise ValueError(f"stage {until} needs training settings (config.training is empty)")
    started = time.perf_counter()
    quiet_setup_tracebacks()  # a bad key or model is reported in one line, not a Prefect traceback
    run_id = config.run_name or flow_run.name or f"run-{int(time.time())}"
    workspace = Workspace.create(config.workdir, config.dataset_root, run_id)
    summary: dict[str, Any] = {"run_id": run_id, "until": until, "offline": config.offline, "status": "Running",
                               "ledger_dir": str(workspace.ledger_dir), "stages": [], "skipped": []}
    task_rows: list[tuple[str, int, str, str, Any]] = []
    stages = config.resolved  # stage configs with their role slots filled from `models:`/`roles:`
    pool = pool_task(config.pool)  # loading calls no model; it tells whether the labeller has work
    calling = roles_this_run(config, wanted, pool_unlabelled=pool.unlabelled > 0)
    try:
        summary["preflight_models"] = preflight_models(stages.distinct(calling), config.llm, workspace,
                                                       aliases={model: alias for alias, model in config.models.items()})
    except PreflightError as error:  # nothing ran: Failed with the one-line reason, no traceback, nothing published
        message = quiet_failure_message(error)
        if message is None:
            raise
        return Failed(message=message)
    try:
        with build_task_runner(config.runner) as runner:
            if "category_labeller" in calling and stages.labeller:  # once per run; every task reuses the labels
                pool = label_pool_task(pool, labeller=stages.labeller, llm=config.llm, workspace=workspace)
            intake = IntakeSettings.of(config.assemble.model_copy(update={"root": workspace.dataset_root_path}))
            warming = warm_workers(runner, pool, intake)  # noqa: F841 - held until the runner closes: see warm_workers
            summary["pool"] = {"name": pool.name, "functions": pool.functions, "fingerprint": pool.fingerprint}
            sizes = SizingState(config, stages.single_turn)
            early = (_submit_single_turn_early(config, sizes, pool, runner, workspace, intake)
                     if {"plans", "translate", "distill"} <= wanted else None)
            if "graph" in wanted:
                graph, state = run_single(graph_task, pool=pool, config=stages.graph, workspace=workspace,
                                          **({"judge": stages.judge, "llm": config.llm} if stages.judge else {}))
                summary["stages"].append(stage_row("graph", [graph], [state]))
            if "plans" in wanted:
                plans, state = run_single(plans_task, pool=pool, graph=graph, config=sizes.plans_config(), workspace=workspace)
                summary["stages"].append(stage_row("plans", [plans], [state]))
                sizes.note_paths(plans.summary)
                single_configs = sizes.round_one(int(plans.summary.get("paths", plans.items_out)))
            translated: list[Any] = []
            distilled: list[Any] = []
            intakes: Intakes = {"translated": [], "distilled": []}
            if "translate" in wanted:
                translated, distilled = _synthesize(config, stages, pool, plans, single_configs, "distill" in wanted, runner,
                                                    workspace, summary, task_rows, "", intakes, intake, early)
            if "distill" in wanted:
                translated, distilled = _top_up_rounds(config, stages, sizes, pool, graph, runner, workspace, summary, task_rows,
                                                       translated, distilled, intakes, intake)
                summary["sizing"] = sizes.report()
            summary["skipped"] = sorted(wanted & UNWIRED)
        if "assemble" in wanted:
            assemble_config = sizes.assemble_config().model_copy(update={"root": workspace.dataset_root_path})
            dataset, _ = run_single(assemble_task, intakes=_in_order(intakes), config=assemble_config, workspace=workspace)
            summary.update(dataset_path=dataset.ref.path, card_path=dataset.card_path, dataset_version=dataset.version_id,
                           dataset_counts=dataset.counts, multi_turn_shape=dataset.multi_turn_shape,
                           dataset_mixture={"sft": dataset.mixture, "preference": dataset.preference_mixture})
        if config.training is not None and "train_sft" in wanted:
            trained = train(config.training, dataset.ref, workspace, mdpo="train_mdpo" in wanted)
            summary.update(trained.summary())
            if "evaluate" in wanted:
                evaluation, _ = run_single(evaluate_task, settings=config.evaluation or EvaluationSettings(),
                                           checkpoint=trained.final, workspace=workspace)
                summary.update(evaluation_dir=evaluation.output_dir, evaluation_report=evaluation.report_md,
                               evaluation_overall=evaluation.overall, evaluation_accuracy=evaluation.accuracy)
    except (BudgetStop, StageShortfall) as stop:
        summary.update(status="Failed", message=str(stop), unfinished=stop.unfinished)
        _publish(summary, workspace, task_rows, config, started)
        return Failed(message=str(stop), data=stop)
    except Exception as error:  # noqa: BLE001 - only a setup failure (key revoked mid-run) is handled here
        message = quiet_failure_message(error)
        if message is None:
            raise
        summary.update(status="Failed", message=message)
        _publish(summary, workspace, task_rows, config, started)
        return Failed(message=message)
    summary["status"] = "Completed"
    _publish(summary, workspace, task_rows, config, started)
    return summary


def _shards(stage: str, progress: Any) -> list[tuple[str, int, str, str, Any]]:
    return [(stage, index, task_run_id, state, output) for index, (task_run_id, state, output)
            in enumerate(zip(progress.task_run_ids, progress.state_names, progress.results))]


def _report(summary: dict[str, Any], row: dict[str, Any], config: PipelineConfig) -> None:
    summary["stages"].append(row)
    report_stage(row, config.min_keep_share)


def _publish(summary: dict[str, Any], workspace: Workspace, task_rows: list[tuple[str, int, str, str, Any]],
             config: PipelineConfig, started: float) -> None:
    publish_task_costs(task_cost_rows(workspace.ledger_dir, task_rows))
    publish_spend(Path(workspace.root))
    rows = publish_cost_table(workspace.ledger_dir, config.offline)
    summary["costs"] = {"calls": sum(r["calls"] for r in rows), "cost_usd": round(sum(r["cost_usd"] for r in rows), 6),
                        "by_model": rows}
    summary["wall_s"] = round(time.perf_counter() - started, 3)
    summary["summary_path"] = str(publish_summary(summary, workspace.run_dir))


@flow(name="magnet-pipeline", description="The whole factory: synthesis, dataset, SFT, mDPO.")
def pipeline_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    if config.training is None:
        return run_pipeline(config, until="assemble")
    return run_pipeline(config, until="evaluate" if config.evaluation is not None else "train_mdpo")
