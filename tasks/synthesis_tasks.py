"""Prefect tasks over the synthesis stages: pool, graph, plans, translate and distill (sharded).

Each task reads its inputs from refs, calls the `magnet_core` stage, writes the output next to its
cache key and returns a `StageOutput`. The cache key is computed from the same parameters Prefect
keys on, so a re-run that misses Prefect's record still overwrites the same file with the same bytes.
"""

from __future__ import annotations

from prefect import task

from magnet_core.distill.single_turn import KINDS as SINGLE_TURN_KINDS
from magnet_core.distill.single_turn import SingleTurnConfig, generate_single_turn
from magnet_core.distill.stage import DistillConfig, DistillResult, distill
from magnet_core.domain.plans import Plan
from magnet_core.graph.dependency_graph import DependencyGraph
from magnet_core.graph.llm_judge import LLMDependencyJudge
from magnet_core.llm.types import ModelConfig
from magnet_core.pools.labelling import label_missing
from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig, build_graph, sample_plans_with_report
from magnet_core.translate.stage import TranslateConfig, TranslateResult, translate_plans
from magnet_core.translate.models import TRANSLATE_ROLES
from tasks.cache_keys import stage_cache_key
from tasks.intake_models import IntakeSettings
from tasks.intake_tasks import with_intake
from tasks.llm_usage import LLMSettings, shard_client
from tasks.options import stage_task
from tasks.retry_policy import raise_if_transient_rejects
from tasks.outputs import PoolRef, PoolSettings, StageOutput, describe_pool, open_pool, write_labels
from tasks.refs import ArtifactRef, read_model, read_verified, write_json, write_jsonl
from tasks.shards import Shard, read_shard
from tasks.task_log import log_pool_issues, log_shard, reason_counts
from tasks.workspace import Workspace

STAGE_EXECUTIONS: dict[str, int] = {}  # per process: how many times each stage body really ran


def _executed(stage: str) -> None:
    STAGE_EXECUTIONS[stage] = STAGE_EXECUTIONS.get(stage, 0) + 1


@task(name="pool", persist_result=False, retries=0)
def pool_task(settings: PoolSettings) -> PoolRef:
    """Not cached: loading is cheap and a cached fingerprint could hide a changed pool file."""
    _executed("pool")
    described = describe_pool(settings)
    log_pool_issues(described.name, described.issues)
    return described


@task(name="pool-labels", persist_result=False, retries=0)
def label_pool_task(pool: PoolRef, labeller: ModelConfig, llm: LLMSettings, workspace: Workspace) -> PoolRef:
    """The category labeller, once per run, on the functions the pool leaves without a category.

    Every call (a cache hit on a re-run too) goes through a ledgered client; the answers are stored as an
    artifact that the returned ref carries, so every later load in any task applies them without a call."""
    _executed("pool-labels")
    key = stage_cache_key("pool", {"pool": pool, "labeller": labeller})
    with shard_client(llm, workspace, "pool", key, needed=True) as holder:
        categories, issues = label_missing(open_pool(pool), holder.client, labeller)
    return describe_pool(pool.settings, write_labels(workspace.artifact_path("pool", key, ".labels.json"), categories, issues))


@stage_task("graph")
def graph_task(pool: PoolRef, config: GraphStageConfig, workspace: Workspace, judge: ModelConfig | None = None,
               llm: LLMSettings | None = None) -> StageOutput:
    """`judge`: the dependency_judge model when `config.judge == "llm"` (candidates, then judge calls, cached)."""
    _executed("graph")
    key = stage_cache_key("graph", {"pool": pool, "config": config, "judge": judge})
    with shard_client(llm or LLMSettings(), workspace, "graph", key, needed=judge is not None) as holder:
        model_judge = LLMDependencyJudge(holder.client, judge) if judge is not None else None
        graph = build_graph(open_pool(pool), config, judge=model_judge)
    ref = write_json(workspace.artifact_path("graph", key), graph.to_json())
    rejects = write_jsonl(workspace.artifact_path("graph", key, ".rejects.jsonl"), graph.rejects)
    return StageOutput(stage="graph", key=key, ref=ref, items_in=pool.functions, items_out=graph.graph.number_of_edges(),
                       rejects=rejects.count, offline=bool(graph.metadata.get("offline", True)),
                       summary={"rejects_ref": rejects.model_dump(), **graph.stats()})


def load_graph(ref: ArtifactRef) -> DependencyGraph:
    read_verified(ref)
    return DependencyGraph.load(ref.path)


@stage_task("plans")
def plans_task(pool: PoolRef, graph: StageOutput, config: PlanStageConfig, workspace: Workspace) -> StageOutput:
    _executed("plans")
    key = stage_cache_key("plans", {"pool": pool, "graph": graph, "config": config})
    plans, counts = sample_plans_with_report(load_graph(graph.ref), open_pool(pool), config)
    ref = write_jsonl(workspace.artifact_path("plans", key, ".jsonl"), plans)
    return StageOutput(stage="plans", key=key, ref=ref, items_in=graph.items_out, items_out=len(plans), summary=dict(counts))


@stage_task("translate")
def translate_shard_task(pool: PoolRef, shard: Shard, config: TranslateConfig, llm: LLMSettings,
                         workspace: Workspace, intake: IntakeSettings | None = None) -> StageOutput:
    """`intake`: also prepare the output for assembly (`with_intake`), under these settings."""
    _executed("translate")
    key = stage_cache_key("translate", {"pool": pool, "shard": shard, "config": config, "llm": llm})
    plans = read_shard(shard, Plan)
    with shard_client(llm, workspace, "translate", key, needed=not config.offline) as holder:
        result: TranslateResult = translate_plans(open_pool(pool), plans, config, client=holder.client)
    if llm.retry_transient_rejects:
        raise_if_transient_rejects(result.rejects, "translate")
    ref = write_json(workspace.artifact_path("translate", key), result)
    reasons = reason_counts(result.rejects)
    log_shard("translate", len(plans), len(result.translated), reasons)
    output = StageOutput(stage="translate", key=key, ref=ref, items_in=len(plans), items_out=len(result.translated),
                         rejects=len(result.rejects), offline=result.offline, usage=holder.usage,
                         summary={**result.summary(), "reject_reasons": reasons})
    return with_intake(output, intake, workspace)


def translate_models(config: TranslateConfig) -> dict[str, str]:
    return config.models.names(TRANSLATE_ROLES)


@stage_task("distill")
def distill_shard_task(pool: PoolRef, translated: StageOutput, config: DistillConfig, llm: LLMSettings,
                       workspace: Workspace, intake: IntakeSettings | None = None) -> StageOutput:
    """One translate shard's scenarios -> positive trajectories, preference pairs, rejects (1:1 with translate)."""
    _executed("distill")
    key = stage_cache_key("distill", {"pool": pool, "translated": translated, "config": config})
    scenarios = read_model(translated.ref, TranslateResult).translated
    with shard_client(llm, workspace, "distill", key, needed=not config.offline) as holder:
        result: DistillResult = distill(open_pool(pool), scenarios, config, client=holder.client)
    if llm.retry_transient_rejects:
        raise_if_transient_rejects(result.rejects, "distill")
    ref = write_json(workspace.artifact_path("distill", key), result)
    reasons = reason_counts(result.rejects)
    log_shard("distill", len(scenarios), len(result.trajectories), reasons)
    output = StageOutput(stage="distill", key=key, ref=ref, items_in=len(scenarios), items_out=len(result.trajectories),
                         rejects=len(result.rejects), offline=result.offline, usage=holder.usage,
                         summary={**result.summary(), "pairs": len(result.pairs), "reject_reasons": reasons})
    return with_intake(output, intake, workspace)


@stage_task("single_turn", name="single-turn")
def single_turn_task(pool: PoolRef, config: SingleTurnConfig, llm: LLMSettings, workspace: Workspace,
                     intake: IntakeSettings | None = None) -> StageOutput:
    """Single-turn / parallel / multiple / irrelevance samples (flows shard it by kind)."""
    _executed("single_turn")
    key = stage_cache_key("single_turn", {"pool": pool, "config": config})
    with shard_client(llm, workspace, "single_turn", key, needed=not config.offline) as holder:
        result: DistillResult = generate_single_turn(open_pool(pool), config, client=holder.client)
    if llm.retry_transient_rejects:
        raise_if_transient_rejects(result.rejects, "single_turn")
    ref = write_json(workspace.artifact_path("single_turn", key), result)
    requested = sum(getattr(config, kind) for kind in SINGLE_TURN_KINDS)
    reasons = reason_counts(result.rejects)
    log_shard("single_turn", requested, len(result.trajectories), reasons)
    output = StageOutput(stage="single_turn", key=key, ref=ref, items_in=requested, items_out=len(result.trajectories),
                         rejects=len(result.rejects), offline=result.offline, usage=holder.usage,
                         summary={**result.summary(), "reject_reasons": reasons})
    return with_intake(output, intake, workspace)


def single_turn_shards(config: SingleTurnConfig) -> list[SingleTurnConfig]:
    """One config per kind (the others set to 0): a sample depends only on its kind, index and seed."""
    return [config.model_copy(update={other: (getattr(config, kind) if other == kind else 0) for other in SINGLE_TURN_KINDS})
            for kind in SINGLE_TURN_KINDS if getattr(config, kind) > 0]


def split_single_turn(configs: list[SingleTurnConfig], size: int) -> list[SingleTurnConfig]:
    """Each one-kind config cut into index ranges of at most `size` samples, so single-turn work spreads
    over workers like any other stage. Same samples as the uncut config: a sample depends only on its kind,
    index and seed, and pairs still come from the first `pairs[kind]` indices of the original range."""
    if size < 1:
        raise ValueError("size must be >= 1")
    pieces: list[SingleTurnConfig] = []
    for config in configs:
        kinds = [kind for kind in SINGLE_TURN_KINDS if getattr(config, kind) > 0]
        if len(kinds) != 1:
            pieces.append(config)  # several kinds share the index range: kept whole
            continue
        kind, count = kinds[0], getattr(config, kinds[0])
        pairs = config.pairs.get(kind, 0)
        for offset in range(0, count, size):
            width = min(size, count - offset)
            update = {kind: width, "start": config.start + offset}
            if config.pairs:
                update["pairs"] = {**config.pairs, kind: max(0, min(width, pairs - offset))}
            pieces.append(config.model_copy(update=update))
    return pieces


def pack_single_turn(pieces: list[SingleTurnConfig], size: int) -> list[SingleTurnConfig]:
    """Neighbouring one-kind pieces that start at the same index packed into one shard of at most `size`
    samples: one task (one start-up, one drain) instead of one per kind, its samples all in flight
    together. Same samples and order: a sample depends only on its kind, index and seed, a shard's
    outcomes come in (kind, index) order, and each kind keeps its own pair count."""
    packed: list[SingleTurnConfig] = []
    for piece in pieces:
        last = packed[-1] if packed else None
        if last is not None and _packable(last, piece, size):
            kinds = {kind: getattr(piece, kind) for kind in SINGLE_TURN_KINDS if getattr(piece, kind) > 0}
            pairs = {**last.pairs, **{kind: piece.pairs.get(kind, 0) for kind in kinds}}
            packed[-1] = last.model_copy(update={**kinds, "pairs": pairs})
        else:
            packed.append(piece)
    return packed


def _packable(first: SingleTurnConfig, second: SingleTurnConfig, size: int) -> bool:
    counts = [(getattr(first, kind), getattr(second, kind)) for kind in SINGLE_TURN_KINDS]
    if any(a and b for a, b in counts) or sum(a + b for a, b in counts) > size:
        return False
    rest = set(SingleTurnConfig.model_fields) - {*SINGLE_TURN_KINDS, "pairs"}
    same_pairs = all(first.pairs.get(k, 0) == second.pairs.get(k, 0) for k in SINGLE_TURN_KINDS
                     if not getattr(first, k) and not getattr(second, k))
    return same_pairs and all(getattr(first, name) == getattr(second, name) for name in rest)

