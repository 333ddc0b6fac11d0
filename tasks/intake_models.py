"""What a prepared shard is: the settings its records depend on, and the ref to it (see `intake_tasks`).

Apart from the task so that `StageOutput` can carry the prepared shard its task made alongside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from magnet_core.dataset.config import AssembleConfig, DecontamConfig, DedupConfig
from tasks.refs import ArtifactRef


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
