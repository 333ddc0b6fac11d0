"""deployments/prefect.yaml: every deployment points at a real flow with a typed config, pools are split
CPU/GPU, the nightly one is scheduled; `magnet deploy` refuses to run without a server."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect import Flow

from deployments.register import PrefectFile, load_prefect_file

REPO = Path(__file__).resolve().parents[2]


def _flow(entrypoint: str) -> Flow:
    path, name = entrypoint.split(":")
    spec = importlib.util.spec_from_file_location(f"_deploy_check_{Path(path).stem}", REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_every_deployment_runs_a_flow_with_a_typed_form():
    spec = load_prefect_file()
    names = {d.name for d in spec.deployments}
    assert {"nightly", "on-demand", "advanced", "gpu", "pool", "graph", "plans", "translate", "distill", "assemble",
            "train-sft", "train-mdpo"} <= names
    for deployment in spec.deployments:
        flow = _flow(deployment.entrypoint)
        assert isinstance(flow, Flow), deployment.entrypoint
        schema = flow.parameters.model_dump()
        if deployment.name in ("nightly", "on-demand"):
            continue  # the operator form: tests/orchestration/test_operator_form.py
        if deployment.name == "gpu":
            assert list(schema["properties"]) == ["settings", "dataset", "workspace", "mdpo"]
            continue
        assert list(schema["properties"]) == ["config"], deployment.name
        assert "PipelineConfig" in schema["definitions"], "the config is a pydantic model the UI renders as a form"


def test_pools_split_cpu_and_gpu_work_and_nightly_is_scheduled():
    spec = load_prefect_file()
    assert spec.magnet_work_pools["magnet-cpu"].type == "process"
    assert spec.magnet_work_pools["magnet-gpu"].concurrency_limit == 1
    pools = {d.name: d.work_pool_name for d in spec.deployments}
    assert pools["train-sft"] == pools["train-mdpo"] == pools["gpu"] == "magnet-gpu"
    assert {pools[n] for n in ("nightly", "on-demand", "translate", "distill", "assemble")} == {"magnet-cpu"}
    schedules = {d.name: [s.cron for s in d.schedules] for d in spec.deployments}
    assert schedules["nightly"] == ["0 2 * * *"]
    assert schedules["on-demand"] == []


def test_a_deployment_on_an_undeclared_pool_is_refused(tmp_path):
    text = (REPO / "deployments" / "prefect.yaml").read_text().replace("name: magnet-gpu}", "name: magnet-tpu}")
    bad = tmp_path / "prefect.yaml"
    bad.write_text(text)
    with pytest.raises(ValueError, match="undeclared work pools"):
        load_prefect_file(bad)
    assert PrefectFile.model_fields["deployments"]


def test_magnet_deploy_needs_a_server():
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    result = subprocess.run([str(Path(sys.executable).parent / "magnet"), "deploy"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "PREFECT_API_URL is not set" in result.stderr
