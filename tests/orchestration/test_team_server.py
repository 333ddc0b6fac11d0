"""The team server as an operator meets it: `prefect server start` with its services (the scheduler included)
on Postgres + Redis messaging, basic auth, the UI, and a process worker; deployments registered by
`magnet deploy`.

- The real scheduler service (not the test) creates the nightly deployment's upcoming runs; one of them is
  started early and a worker runs it to Completed.
- In headless Chromium (Debian's package, installed by `make test`), a user logs in, opens the on-demand
  deployment, fills the run form, submits, waits for Completed, reads the run summary artifact and a
  retried task's run count. Screenshots of every step are left under the test's tmp dir.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from server_stack import deploy, poll, prefect_stack, wait_for_run, worker  # noqa: E402
from ui_driver import Browser  # noqa: E402

REDIS_DB = 12
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def team_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("team-server")
    with prefect_stack(root, REDIS_DB, ui=True, PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1") as stack:
        registered = deploy(stack["env"], "nightly", "on-demand")
        assert "registered magnet-factory/nightly" in registered and "registered magnet-factory/on-demand" in registered
        with worker(stack["env"], "magnet-cpu", root / "worker.log"):
            yield stack


def write_config(path: Path, tmp_path: Path, **extra) -> Path:
    """What an operator keeps in a config file: where outputs go, one synthesis round, and more."""
    raw = {"workdir": str(tmp_path / "work"), "assemble": {"root": str(tmp_path / "data"), "plots": False},
           "shard_size": 100, "target": {"top_up_rounds": 0}, **extra}  # the form's dataset size joins the target
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def scheduled_nightly_runs(http, deployment_id: str) -> list[dict]:
    return http.post("/flow_runs/filter", json={"deployments": {"id": {"any_": [deployment_id]}},
                                                "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}).json()


@pytest.mark.slow
def test_the_scheduler_creates_the_nightly_runs_and_a_worker_completes_one(team_server, tmp_path):
    http = team_server["http"]
    nightly = http.get("/deployments/name/magnet-factory/nightly").json()
    assert [s["schedule"]["cron"] for s in nightly["schedules"]] == ["0 2 * * *"]
    runs = poll(lambda: scheduled_nightly_runs(http, nightly["id"]), lambda found: len(found) >= 3, 90,
                "the scheduler service creating the nightly's upcoming runs")
    starts = sorted(datetime.fromisoformat(r["expected_start_time"].replace("Z", "+00:00")) for r in runs)
    assert all(r["auto_scheduled"] for r in runs), "created by the scheduler, not by a person or this test"
    assert all((s.hour, s.minute) == (2, 0) for s in starts) and starts[0] > datetime.now(timezone.utc)
    assert {b - a for a, b in zip(starts, starts[1:])} == {timedelta(days=1)}
    assert "InvalidRequestError" not in team_server["log"].read_text(errors="replace")

    # Start the next nightly run now, on a small dataset without training (the test's time, not the nightly's
    # schedule or code path, is what changes): the worker picks it up like any due run.
    first = min(runs, key=lambda r: r["expected_start_time"])
    config = write_config(tmp_path / "nightly.yaml", tmp_path)
    patched = http.patch(f"/flow_runs/{first['id']}",
                         json={"parameters": {"dataset_size": 12, "train": False, "config_file": str(config)}})
    assert patched.status_code == 204, patched.text
    now = datetime.now(timezone.utc).isoformat()
    moved = http.post(f"/flow_runs/{first['id']}/set_state", json={
        "state": {"type": "SCHEDULED", "name": "Scheduled", "state_details": {"scheduled_time": now}}, "force": True})
    assert moved.status_code in (200, 201), moved.text
    run = wait_for_run(http, first["id"], timeout_s=300)
    assert run["state"]["type"] == "COMPLETED", (team_server["root"] / "worker.log").read_text()[-4000:]
    assert run["auto_scheduled"] and run["deployment_id"] == nightly["id"]
    assert list((tmp_path / "data").glob("*/manifest.json")), "the dataset landed where the config file says"


@pytest.mark.slow
def test_a_user_runs_the_factory_from_the_browser(team_server, tmp_path, fake_llm, teacher):
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "Debian's chromium and chromium-driver: run `make browser`"
    fake_llm.server.configure(schedule=(None, "server_error"))  # preflight passes; the first stage call fails once
    config = write_config(tmp_path / "factory.yaml", tmp_path, min_keep_share=0.0,
                          models={"writer": teacher(fake_llm).model_dump(exclude_none=True)},
                          roles={"query_writer": "writer"})
    shots = tmp_path / "screenshots"
    with Browser(team_server["url"], team_server["auth"], shots) as ui:
        ui.log_in()
        ui.open_deployment("on-demand")
        form = ui.custom_run_form()
        assert form["labels"][:7] == ["Teacher model", "Function pool", "Dataset size (SFT rows)",
                                      "Budget (USD)", "Train (SFT, then mDPO)", "Evaluate on BFCL multi-turn",
                                      "Config file (everything else)"], form["labels"]
        assert not any(label.startswith("Field") for label in form["labels"])
        ui.fill_number("Dataset size", 12)
        ui.toggle("Train")
        ui.fill_text("Config file", str(config))
        run_name = ui.submit_and_open_run()
        ui.wait_for_state("Completed", timeout_s=300)
        summary = ui.read_artifact("run-summary")
        assert f"Magnet run {run_name}" in summary and "Completed" in summary
        assert "translate" in summary and "wall time" in summary
        # the stage task that made the first model call after preflight failed once and was retried (with a size
        # target, single-turn shards may call first: they start while the graph is built)
        listed = team_server["http"].post("/task_runs/filter", json={"flow_runs": {"name": {"any_": [run_name]}}})
        retried = [r["name"] for r in listed.json() if r["run_count"] == 2]
        assert len(retried) == 1 and retried[0].startswith(("translate", "single-turn", "distill")), retried
        task = ui.open_task_run(retried[0])
        assert task["Run Count"] == "2" and task["Retries"] == "3", task
    assert len(list(shots.glob("*.png"))) >= 6


@pytest.mark.slow
def test_the_pipeline_hands_training_to_the_gpu_pool(team_server, tmp_path):
    http, env = team_server["http"], team_server["env"]
    assert "registered magnet-training/gpu" in deploy(env, "gpu")
    config = write_config(tmp_path / "gpu.yaml", tmp_path, training={
        "deployment": "magnet-training/gpu", "sft_max_steps": 1, "mdpo_max_steps": 1,
        "max_length": 8192})  # BFCL tool schemas are long in the tiny model's tokens
    on_demand = http.get("/deployments/name/magnet-factory/on-demand").json()
    with worker(env, "magnet-gpu", tmp_path / "gpu-worker.log"):
        created = http.post(f"/deployments/{on_demand['id']}/create_flow_run",
                            json={"parameters": {"dataset_size": 20, "config_file": str(config)}})
        assert created.status_code == 201, created.text
        run = wait_for_run(http, created.json()["id"], timeout_s=420)
    assert run["state"]["type"] == "COMPLETED", (tmp_path / "gpu-worker.log").read_text()[-4000:]
    subflows = http.post("/flow_runs/filter", json={"flow_runs": {"parent_flow_run_id": {"any_": [run["id"]]}}}).json()
    assert [s["work_pool_name"] for s in subflows] == ["magnet-gpu"], "training ran as a subflow on the GPU pool"
    assert subflows[0]["state"]["type"] == "COMPLETED"
    summary = json.loads(next((tmp_path / "work" / "runs").glob("*/summary.json")).read_text())
    assert summary["sft_steps"] == 1 and summary["mdpo_steps"] == 1
    assert summary["sft_where"].startswith("magnet-training/gpu (flow run ")
