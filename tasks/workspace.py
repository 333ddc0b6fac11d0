"""Where a run's files go. Shard outputs are content-addressed (named by cache key), so a re-run finds them.

Layout under `root` (default `.magnet` in the working directory):
    artifacts/<stage>/<cache key>.json   shard outputs (refs point here)
    prefect-results/                     Prefect's persisted task results (the cache records)
    checkpoints/<stage>-<key>/           training outputs
    runs/<run id>/ledger/*.parquet       per-call LLM records of this run, one part per shard
    runs/<run id>/summary.json           the run summary
Datasets go to `dataset_root` (default `data/`), where `magnet_core.dataset` versions them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Workspace(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    root: str = Field(description="Directory for artifacts, caches, ledgers and checkpoints")
    dataset_root: str = Field(description="Directory the dataset versions are written to")
    run_id: str = Field(min_length=1, description="Names this run's ledger and summary directory")

    @property
    def artifacts(self) -> Path:
        return Path(self.root) / "artifacts"

    @property
    def results(self) -> Path:
        return Path(self.root) / "prefect-results"

    @property
    def checkpoints(self) -> Path:
        return Path(self.root) / "checkpoints"

    @property
    def run_dir(self) -> Path:
        return Path(self.root) / "runs" / self.run_id

    @property
    def dataset_root_path(self) -> Path:
        return Path(self.dataset_root)

    @property
    def ledger_dir(self) -> Path:
        return self.run_dir / "ledger"

    def artifact_path(self, stage: str, key: str, suffix: str = ".json") -> Path:
        return self.artifacts / stage / f"{key}{suffix}"

    @classmethod
    def create(cls, root: str | Path, dataset_root: str | Path, run_id: str) -> "Workspace":
        root_path, data_path = Path(root).resolve(), Path(dataset_root).resolve()
        for path in (root_path, data_path):
            path.mkdir(parents=True, exist_ok=True)
        return cls(root=str(root_path), dataset_root=str(data_path), run_id=run_id)
