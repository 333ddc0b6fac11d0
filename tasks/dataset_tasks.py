"""Prefect task over the assemble stage: every shard's samples and rejects -> one dataset version.

Inputs are the refs of all upstream shard outputs; the version id is a content hash (computed by
`magnet_core.dataset`), so assembling the same samples twice - after a killed run, say - yields the same
directory, never a second copy or duplicate rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from pydantic import BaseModel, ConfigDict

from magnet_core.dataset.config import AssembleConfig, DatasetVersion, DedupConfig
from magnet_core.dataset.records import SampleBatch
from magnet_core.dataset.stage import assemble_batches
from magnet_core.domain import PreferencePair, Reject, Trajectory
from tasks.options import stage_task
from tasks.outputs import StageOutput
from tasks.refs import ArtifactRef, read_model, ref_for_existing
from tasks.task_log import core_logs_to_run, log_dataset
from tasks.workspace import Workspace


class DatasetOutput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version_id: str
    ref: ArtifactRef
    card_path: str
    offline: bool
    counts: dict[str, int]
    rejects_by_reason: dict[str, int]
    mixture: list[dict] = []  # per category: available, target, achieved, surplus, shortfall, note
    preference_mixture: list[dict] = []
    multi_turn_shape: dict[str, float] = {}  # mean turns/calls per multi-turn sample beside the paper's

    def key_fields(self) -> dict:
        return {"version_id": self.version_id, "content": self.ref.sha256}


class ShardSamples(BaseModel):
    """The sample-bearing part of any shard output (translate: rejects only; distill: all three)."""

    model_config = ConfigDict(extra="ignore")

    trajectories: list[Trajectory] = []
    pairs: list[PreferencePair] = []
    rejects: list[Reject] = []


def shard_batches(outputs: list[StageOutput]) -> Iterator[SampleBatch]:
    """Each shard's trajectories, pairs and rejects as one batch, in shard order, read only when the
    consumer asks for it: assembly and the sizing measure hold one shard's samples at a time, never all."""
    for output in outputs:
        samples = read_model(output.ref, ShardSamples)
        batch = SampleBatch(samples.trajectories, samples.pairs, samples.rejects)
        del samples
        yield batch
        del batch  # before the next shard is read


@stage_task("assemble")
def assemble_task(outputs: list[StageOutput], config: AssembleConfig, workspace: Workspace) -> DatasetOutput:
    with core_logs_to_run():  # dedup/decontamination/mixture notes reach the run's log
        version: DatasetVersion = assemble_batches(shard_batches(outputs), config)
    path = Path(version.path)
    log_dataset(version.version_id, dict(version.counts), dict(version.rejects_by_reason), version.offline)
    return DatasetOutput(version_id=version.version_id, ref=ref_for_existing(path), card_path=str(path / "README.md"),
                         offline=version.offline, counts=dict(version.counts),
                         rejects_by_reason=dict(version.rejects_by_reason), multi_turn_shape=dict(version.multi_turn_shape),
                         mixture=[row.model_dump() for row in version.mixture],
                         preference_mixture=[row.model_dump() for row in version.preference_mixture])


@stage_task("available")
def available_task(outputs: list[StageOutput], dedup: DedupConfig, workspace: Workspace) -> dict[str, dict[str, int]]:
    """SFT rows and pairs per category that would reach the mixture (the sizing rounds' measure), cached:
    a warm re-run must not re-read and deduplicate every sample just to learn that nothing is short."""
    from magnet_core.dataset.sizing import available_counts

    sft, preference = available_counts(shard_batches(outputs), dedup)
    return {"sft": sft, "preference": preference}
