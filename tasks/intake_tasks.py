"""Prefect task that prepares one shard output for assembly, on whichever worker runs it.

Every sample's per-sample work (parse, hash, render, check, key, decontaminate, spill with its row) is
done here once per shard, in parallel on the task runner, and cached like any stage task: its key covers
the shard (by its key), the code of `magnet_core.dataset`, and the settings the records depend on
(`IntakeSettings`: dedup, miss_func rendering, decontamination and the BFCL data's fingerprint). The
sizing measure and assembly then read only records (`magnet_core.dataset.prepared`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from magnet_core.dataset.config import AssembleConfig, DecontamConfig, DedupConfig
from magnet_core.dataset.records import SampleBatch
from magnet_core.domain import PreferencePair, Reject, Trajectory
from tasks.cache_keys import stage_cache_key
from tasks.options import stage_task
from tasks.outputs import StageOutput
from tasks.refs import ArtifactRef, read_model, ref_for_existing
from tasks.workspace import Workspace


class ShardSamples(BaseModel):
    """The sample-bearing part of any shard output (translate: rejects only; distill: all three)."""

    model_config = ConfigDict(extra="ignore")

    trajectories: list[Trajectory] = []
    pairs: list[PreferencePair] = []
    rejects: list[Reject] = []


class IntakeSettings(BaseModel):
    """The parts of the assemble config a shard's records depend on; `cache_dir` is where the BFCL index
    cache lives (a location: not keyed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dedup: DedupConfig
    miss_func_rendering: str
    decontamination: DecontamConfig
    bfcl: str | None  # fingerprint of the BFCL data the contamination verdicts are made against
    cache_dir: str

    @classmethod
    def of(cls, config: AssembleConfig) -> "IntakeSettings":
        from magnet_core.dataset.stage import bfcl_fingerprint

        return cls(dedup=config.dedup, miss_func_rendering=config.miss_func_rendering,
                   decontamination=config.decontamination, bfcl=bfcl_fingerprint(config),
                   cache_dir=str(config.cache_dir or Path(config.root) / ".cache"))

    def key_fields(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"cache_dir"})

    def assemble_config(self) -> AssembleConfig:
        """An assemble config with these settings (what the records' verdicts are computed under)."""
        return AssembleConfig(root=Path(self.cache_dir).parent, cache_dir=Path(self.cache_dir), dedup=self.dedup,
                              miss_func_rendering=self.miss_func_rendering, decontamination=self.decontamination)


class IntakeOutput(BaseModel):
    """A prepared shard: `ref` is its directory. Downstream keys chain on `key` (covers source and settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    ref: ArtifactRef
    settings: IntakeSettings

    def key_fields(self) -> dict[str, Any]:
        return {"stage": "intake", "key": self.key}


@stage_task("intake")
def intake_task(output: StageOutput, settings: IntakeSettings, workspace: Workspace) -> IntakeOutput:
    from magnet_core.dataset.prepared import prepare_shard
    from magnet_core.dataset.stage import contamination_check

    from tasks.synthesis_tasks import _executed

    _executed("intake")  # the body ran (a cache hit never gets here): tests count recomputation
    key = stage_cache_key("intake", {"output": output, "settings": settings})
    final = workspace.artifact_path("intake", key, suffix="")
    if not final.is_dir():  # written under a temporary name, renamed when whole: a kill leaves no half shard
        samples = read_model(output.ref, ShardSamples)
        batch = SampleBatch(samples.trajectories, samples.pairs, samples.rejects)
        del samples
        contamination_of, index_info = contamination_check(settings.assemble_config())
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
        try:
            prepare_shard(batch, tmp, mode=settings.miss_func_rendering, dedup=settings.dedup,
                          contamination_of=contamination_of, index_info=index_info)
            tmp.rename(final)
        except OSError:
            if not final.is_dir():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return IntakeOutput(key=key, ref=ref_for_existing(final), settings=settings)
