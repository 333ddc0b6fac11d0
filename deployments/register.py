"""`magnet deploy`: create the work pools and register every deployment of `deployments/prefect.yaml`.

prefect.yaml stays the one description of the deployments (it also works with `prefect deploy`); this
module reads it, validates it, creates the pools it names and registers each deployment with
`flow.from_source(project_dir, entrypoint).deploy(...)`, whose pull step sets the worker's working
directory to the project.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

PREFECT_FILE = Path(__file__).with_name("prefect.yaml")


class WorkPoolSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["process"] = "process"
    description: str = ""
    concurrency_limit: int | None = Field(None, ge=1)


class ScheduleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str
    timezone: str = "UTC"


class DeploymentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    entrypoint: str = Field(pattern=r"^[\w/]+\.py:\w+$")
    work_pool: dict[str, str]
    description: str | None = None
    schedules: list[ScheduleSpec] = []
    tags: list[str] = []
    parameters: dict[str, Any] = {}

    @property
    def work_pool_name(self) -> str:
        return self.work_pool["name"]


class PrefectFile(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    magnet_work_pools: dict[str, WorkPoolSpec]
    deployments: list[DeploymentSpec]


def load_prefect_file(path: Path = PREFECT_FILE) -> PrefectFile:
    spec = PrefectFile.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    unknown = {d.work_pool_name for d in spec.deployments} - set(spec.magnet_work_pools)
    if unknown:
        raise ValueError(f"{path}: deployments use undeclared work pools {sorted(unknown)}")
    return spec


async def ensure_work_pools(pools: dict[str, WorkPoolSpec]) -> list[str]:
    """Create missing pools; existing ones are left as they are. Returns the names created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    created = []
    async with get_client() as client:
        for name, pool in pools.items():
            try:
                await client.create_work_pool(WorkPoolCreate(name=name, type=pool.type, description=pool.description,
                                                             concurrency_limit=pool.concurrency_limit))
                created.append(name)
            except ObjectAlreadyExists:
                pass
    return created


def register(project_dir: Path, names: list[str] | None = None, path: Path = PREFECT_FILE) -> dict[str, str]:
    """Register the deployments (all, or those named) -> {"flow-name/deployment-name": deployment id}."""
    from prefect import Flow
    from prefect.schedules import Cron

    spec = load_prefect_file(path)
    chosen = [d for d in spec.deployments if names is None or d.name in names]
    missing = set(names or ()) - {d.name for d in chosen}
    if missing:
        raise ValueError(f"no deployment named {sorted(missing)} in {path}")
    asyncio.run(ensure_work_pools(spec.magnet_work_pools))  # every pool, so GPU workers have one to poll
    registered: dict[str, str] = {}
    for deployment in chosen:
        flow = Flow.from_source(source=str(Path(project_dir).resolve()), entrypoint=deployment.entrypoint)
        deployment_id = flow.deploy(
            name=deployment.name,
            work_pool_name=deployment.work_pool_name,
            build=False,
            push=False,
            schedules=[Cron(s.cron, timezone=s.timezone) for s in deployment.schedules] or None,
            parameters=deployment.parameters or None,
            description=deployment.description,
            tags=deployment.tags,
            print_next_steps=False,
            ignore_warnings=True,
        )
        registered[f"{flow.name}/{deployment.name}"] = str(deployment_id)
    return registered
