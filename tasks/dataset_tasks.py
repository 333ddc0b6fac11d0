"""Prefect task over the assemble stage: every shard's samples and rejects -> one dataset version.

Inputs are the refs of all upstream shard outputs; the version id is a content hash (computed by
`magnet_core.dataset`), so assembling the same samples twice - after a killed run, say - yields the same
directory, never a second copy or duplicate rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from magnet_core.dataset.config import AssembleConfig, DatasetVersion, DedupConfig
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


class _ToolInterner:
    """One shared dict per distinct tool schema. Every sample carries the tool JSON of its offered functions
    (a whole tool class): parsed per sample that is about half of a sample's memory, and the same few
    thousand schemas repeat across tens of thousands of samples. Samples are frozen, so sharing is safe."""

    def __init__(self) -> None:
        self._seen: dict[str, dict] = {}

    def tools(self, tools: tuple[dict, ...]) -> tuple[dict, ...]:
        return tuple(self._seen.setdefault(json.dumps(tool, sort_keys=False), tool) for tool in tools)

    def sample(self, sample: Any) -> Any:
        return sample.model_copy(update={"tools": self.tools(sample.tools)}) if sample.tools else sample


def collect_samples(outputs: list[StageOutput]) -> tuple[list[Trajectory], list[PreferencePair], list[Reject]]:
    """Trajectories, preference pairs and rejects from shard outputs, in shard order (one file at a time,
    tool schemas shared between samples)."""
    trajectories: list[Trajectory] = []
    pairs: list[PreferencePair] = []
    rejects: list[Reject] = []
    interner = _ToolInterner()
    for output in outputs:
        samples = read_model(output.ref, ShardSamples)
        trajectories += map(interner.sample, samples.trajectories)
        pairs += map(interner.sample, samples.pairs)
        rejects += samples.rejects
        del samples
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


@stage_task("available")
def available_task(outputs: list[StageOutput], dedup: DedupConfig, workspace: Workspace) -> dict[str, dict[str, int]]:
    """SFT rows and pairs per category that would reach the mixture (the sizing rounds' measure), cached:
    a warm re-run must not re-read and deduplicate every sample just to learn that nothing is short."""
    from magnet_core.dataset.sizing import available_counts

    sft, preference = available_counts(*collect_samples(outputs)[:2], dedup)
    return {"sft": sft, "preference": preference}
