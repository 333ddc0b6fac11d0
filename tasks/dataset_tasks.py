"""Prefect task over the assemble stage: every shard's samples and rejects -> one dataset version.

Inputs are the refs of all upstream shard outputs; the version id is a content hash (computed by
`magnet_core.dataset`), so assembling the same samples twice - after a killed run, say - yields the same
directory, never a second copy or duplicate rows.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from magnet_core.dataset.config import AssembleConfig, DatasetVersion
from magnet_core.dataset.stage import assemble_dataset
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


def collect_samples(outputs: list[StageOutput]) -> tuple[list[Trajectory], list[PreferencePair], list[Reject]]:
    """Trajectories, preference pairs and rejects from shard outputs, in shard order."""
    trajectories: list[Trajectory] = []
    pairs: list[PreferencePair] = []
    rejects: list[Reject] = []
    for output in outputs:
        samples = read_model(output.ref, ShardSamples)
        trajectories += samples.trajectories
        pairs += samples.pairs
        rejects += samples.rejects
    return trajectories, pairs, rejects


@stage_task("assemble")
def assemble_task(outputs: list[StageOutput], config: AssembleConfig, workspace: Workspace) -> DatasetOutput:
    trajectories, pairs, rejects = collect_samples(outputs)
    with core_logs_to_run():  # dedup/decontamination/mixture notes reach the run's log
        version: DatasetVersion = assemble_dataset(trajectories, pairs, rejects, config)
    path = Path(version.path)
    log_dataset(version.version_id, dict(version.counts), dict(version.rejects_by_reason), version.offline)
    return DatasetOutput(version_id=version.version_id, ref=ref_for_existing(path), card_path=str(path / "README.md"),
                         offline=version.offline, counts=dict(version.counts),
                         rejects_by_reason=dict(version.rejects_by_reason), multi_turn_shape=dict(version.multi_turn_shape),
                         mixture=[row.model_dump() for row in version.mixture],
                         preference_mixture=[row.model_dump() for row in version.preference_mixture])
