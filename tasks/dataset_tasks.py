"""Prefect tasks over the assemble stage: every prepared shard (`intake_tasks.py`) -> one dataset version.

Inputs are the prepared shards of all upstream shard outputs; the version id is a content hash (computed by
`magnet_core.dataset`), so assembling the same samples twice - after a killed run, say - yields the same
directory, never a second copy or duplicate rows.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from magnet_core.dataset.config import AssembleConfig, DatasetVersion
from tasks.intake_tasks import IntakeOutput, IntakeSettings
from tasks.options import stage_task
from tasks.refs import ArtifactRef, ref_for_existing
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


@stage_task("assemble")
def assemble_task(intakes: list[IntakeOutput], config: AssembleConfig, workspace: Workspace) -> DatasetOutput:
    """From prepared shards (`intake_task`): reads their records, then streams the kept rows back from them."""
    from magnet_core.dataset.prepared import load_prepared
    from magnet_core.dataset.stage import assemble_intake, contamination_check

    _check_settings(intakes, IntakeSettings.of(config))
    merged = load_prepared(Path(intake.ref.path) for intake in intakes)
    with merged.spill, core_logs_to_run():  # dedup/decontamination/mixture notes reach the run's log
        index_info = merged.index_info if intakes else contamination_check(config)[1]
        version: DatasetVersion = assemble_intake(merged.intake, merged.spill, config, index_info)
    path = Path(version.path)
    log_dataset(version.version_id, dict(version.counts), dict(version.rejects_by_reason), version.offline)
    return DatasetOutput(version_id=version.version_id, ref=ref_for_existing(path), card_path=str(path / "README.md"),
                         offline=version.offline, counts=dict(version.counts),
                         rejects_by_reason=dict(version.rejects_by_reason), multi_turn_shape=dict(version.multi_turn_shape),
                         mixture=[row.model_dump() for row in version.mixture],
                         preference_mixture=[row.model_dump() for row in version.preference_mixture])


def _check_settings(intakes: list[IntakeOutput], settings: IntakeSettings) -> None:
    """Records made under other settings (dedup, rendering, decontamination) would assemble another dataset."""
    wrong = [intake.key for intake in intakes if intake.settings.key_fields() != settings.key_fields()]
    if wrong:
        raise ValueError(f"{len(wrong)} prepared shard(s) were made under other dataset settings than this assembly's")


@stage_task("available")
def available_task(intakes: list[IntakeOutput], settings: IntakeSettings, workspace: Workspace) -> dict[str, dict[str, int]]:
    """SFT rows and pairs per category that would reach the mixture (the sizing rounds' measure), cached,
    and from the prepared shards' records only: no sample is read again to learn that nothing is short."""
    from magnet_core.dataset.prepared import load_prepared
    from magnet_core.dataset.sizing import counts_of_records

    _check_settings(intakes, settings)
    merged = load_prepared(Path(intake.ref.path) for intake in intakes)
    merged.spill.close()  # the measure reads no sample
    sft, preference = counts_of_records(merged.intake.trajectories, merged.intake.pairs, settings.dedup,
                                        decontaminate=settings.decontamination.enabled)
    return {"sft": sft, "preference": preference}
