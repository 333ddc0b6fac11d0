"""Training where the GPUs are: SFT then mDPO, in this process or handed to a GPU-pool deployment.

The pipeline runs training in its own process by default (the CPU smoke run of the embedded default).
When `training.deployment` names a deployment of the `magnet-training` flow (on the GPU work pool), the
pipeline runs it as a subflow with `run_deployment`, waits for it, and reads its outputs back from the
run directory: datasets, checkpoints and the workspace are on a filesystem both hosts see.
"""

from __future__ import annotations

import json
from typing import Any

from prefect import flow
from pydantic import BaseModel, ConfigDict

from flows.steps import run_single
from tasks.refs import ArtifactRef, atomic_write_bytes
from tasks.training_tasks import TrainingSettings, TrainOutput, base_model_task, train_mdpo_task, train_sft_task
from tasks.workspace import Workspace

TRAINING_JSON = "training.json"


class Trained(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sft: TrainOutput
    mdpo: TrainOutput | None
    base_model: str
    where: str

    @property
    def final(self) -> TrainOutput:
        return self.mdpo or self.sft

    def summary(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"base_model": self.base_model, "sft_checkpoint": self.sft.checkpoint.path,
                                  "sft_steps": self.sft.steps, "sft_final_loss": self.sft.final_loss,
                                  "sft_where": self.where}
        if self.mdpo:
            fields.update(mdpo_checkpoint=self.mdpo.checkpoint.path, mdpo_steps=self.mdpo.steps,
                          mdpo_final_loss=self.mdpo.final_loss, mdpo_where=self.where)
        return fields


def train_here(settings: TrainingSettings, dataset: ArtifactRef, workspace: Workspace, mdpo: bool,
               where: str = "this worker") -> Trained:
    base, _ = run_single(base_model_task, settings=settings, workspace=workspace)
    sft, _ = run_single(train_sft_task, settings=settings, dataset=dataset, base_model=base, workspace=workspace)
    tuned = run_single(train_mdpo_task, settings=settings, dataset=dataset, sft=sft, workspace=workspace)[0] if mdpo else None
    return Trained(sft=sft, mdpo=tuned, base_model=base.path, where=where)


def train(settings: TrainingSettings, dataset: ArtifactRef, workspace: Workspace, mdpo: bool) -> Trained:
    """Train in this process, or on the deployment `settings.deployment` names (as a subflow of this run)."""
    if not settings.deployment:
        return train_here(settings, dataset, workspace, mdpo)
    from prefect.deployments import run_deployment

    remote = settings.model_copy(update={"deployment": ""})
    run = run_deployment(name=settings.deployment, as_subflow=True, timeout=None,
                         parameters={"settings": remote.model_dump(mode="json"), "dataset": dataset.model_dump(mode="json"),
                                     "workspace": workspace.model_dump(mode="json"), "mdpo": mdpo})
    if not run.state or not run.state.is_completed():
        raise RuntimeError(f"training deployment {settings.deployment} ended {run.state.name if run.state else 'unknown'}: "
                           f"{run.state.message if run.state else ''}")
    record = json.loads((workspace.run_dir / TRAINING_JSON).read_text(encoding="utf-8"))
    return Trained(sft=TrainOutput.model_validate(record["sft"]),
                   mdpo=TrainOutput.model_validate(record["mdpo"]) if record.get("mdpo") else None,
                   base_model=record["base_model"], where=f"{settings.deployment} ({record['where']})")


@flow(name="magnet-training", description="SFT then mDPO on a dataset version; the pipeline hands training here.")
def training_flow(settings: TrainingSettings, dataset: ArtifactRef, workspace: Workspace, mdpo: bool = True) -> dict[str, Any]:
    from prefect.runtime import flow_run

    trained = train_here(settings, dataset, workspace, mdpo, where=f"flow run {flow_run.name}")
    record = {"sft": trained.sft.model_dump(mode="json"), "mdpo": trained.mdpo.model_dump(mode="json") if trained.mdpo else None,
              "base_model": trained.base_model, "where": trained.where}
    workspace.run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(workspace.run_dir / TRAINING_JSON, json.dumps(record, indent=2).encode())
    return trained.summary()
