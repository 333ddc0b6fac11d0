"""Atomic versions, no-op re-runs, the dataset card, `magnet inspect`, and no secrets on disk."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap

import pytest
import yaml
from typer.testing import CliRunner

from magnet_core.cli.main import app
from magnet_core.dataset.parquet_io import list_versions
from magnet_core.dataset.stage import assemble_dataset

SENTINEL = "sk-SENTINEL-do-not-leak-7f3a9c"


class Crash(RuntimeError):
    pass


def _inputs(build):
    samples = build.pool({"single": 5, "parallel": 3, "multiple": 3, "multi_turn": 6, "irrelevance": 3})
    return samples, [build.pair("pair-a"), build.pair("pair-b", "single")]


@pytest.mark.parametrize("crash_at", ["sft", "rejects", "card", "manifest"])
def test_interrupted_write_leaves_no_visible_version(build, make_config, crash_at):
    samples, pairs = _inputs(build)
    config = make_config(decontamination={"enabled": False})

    def hook(step: str) -> None:
        if step == crash_at:
            raise Crash(step)

    with pytest.raises(Crash):
        assemble_dataset(samples, pairs, [], config, on_write_step=hook)
    assert list_versions(config.root) == []
    assert [p.name for p in config.root.iterdir() if not p.name.startswith(".cache")] == []
    result = CliRunner().invoke(app, ["inspect", str(config.root)])
    assert result.exit_code == 2


def test_killed_writer_leaves_only_a_hidden_temporary_dir(tmp_path):
    root = tmp_path / "data"
    script = textwrap.dedent(
        f"""
        import os, signal
        from magnet_core.dataset import AssembleConfig
        from magnet_core.dataset.stage import assemble_dataset
        from magnet_core.domain import ChatMessage, Trajectory
        t = Trajectory(trajectory_id="t1", messages=(ChatMessage(role="user", content="hello there"),
                       ChatMessage(role="assistant", content="hi")), metadata={{"category": "irrelevance", "offline": True}})
        def hook(step):
            if step == "preference":
                os.kill(os.getpid(), signal.SIGKILL)
        assemble_dataset([t], [], [], AssembleConfig(root={str(root)!r}, plots=False, decontamination={{"enabled": False}}), on_write_step=hook)
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert completed.returncode == -9, completed.stderr.decode()[-2000:]
    leftovers = [p.name for p in root.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".tmp-")  # written parts exist, but hidden
    (root / "v0000000000000000" / "sft").mkdir(parents=True)  # a version-like dir without manifest
    assert list_versions(root) == []
    result = CliRunner().invoke(app, ["inspect", str(root)])
    assert result.exit_code == 2 and "incomplete" in result.output


def test_rerun_with_unchanged_inputs_is_a_no_op(build, make_config):
    samples, pairs = _inputs(build)
    config = make_config(decontamination={"enabled": False})
    first = assemble_dataset(samples, pairs, [], config)
    stamps = {p: p.stat().st_mtime_ns for p in first.path.rglob("*")}
    shuffled = list(samples)
    random.Random(9).shuffle(shuffled)
    again = assemble_dataset(shuffled, list(reversed(pairs)), [], config)
    assert again.reused and not first.reused
    assert again.version_id == first.version_id
    assert {p: p.stat().st_mtime_ns for p in again.path.rglob("*")} == stamps
    changed = assemble_dataset(samples[:-1], pairs, [], config)
    reseeded = assemble_dataset(samples, pairs, [], make_config(decontamination={"enabled": False}, seed=1))
    assert len({first.version_id, changed.version_id, reseeded.version_id}) == 3
    assert len(list_versions(config.root)) == 3


def test_card_plots_inspect_and_no_secret_on_disk(build, make_config, monkeypatch):
    monkeypatch.setenv("MAGNET_TEACHER_API_KEY", SENTINEL)
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    samples, pairs = _inputs(build)
    leaky = build.trajectory("leaky-meta", "multi_turn", [build.distinct_query(777)], models={"translator": "openai/gpt-x"}, api_key=SENTINEL)
    config = make_config(plots=True, export_bfcl=True)
    version = assemble_dataset([*samples, leaky], pairs, [], config)
    assert version.offline

    card = (version.path / "README.md").read_text(encoding="utf-8")
    header = yaml.safe_load(card.split("---\n")[1])
    assert {c["config_name"]: c["data_files"][0]["path"] for c in header["configs"]} == {
        "sft": "sft/*.parquet", "preference": "preference/*.parquet", "rejects": "rejects/*.parquet"}
    assert "license" in header and "function-calling" in header["tags"]
    assert "generated with the offline default roles, no teacher model" in card
    assert "- translator: offline" in card and "`offline`: the role's offline implementation" in card
    assert "| category | available | target |" in card and "| irrelevance |" in card
    assert f"| turns per sample | {version.counts['sft']} |" in card and "| mixture/mixture_surplus |" in card
    for name in ("turns_per_sample", "calls_per_turn", "category_mix", "node_operation_mix"):
        png = version.path / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"plots/{name}.png" in card
    assert (version.path / "bfcl" / "multi_turn.jsonl").is_file()

    for file in [config.root, *config.root.rglob("*")]:
        if file.is_file():
            assert SENTINEL.encode() not in file.read_bytes(), file

    from magnet_core.dataset.loading import read_rejects, read_trajectories

    stored = {t.trajectory_id: t for t in read_trajectories(version.path)}
    stored_meta = stored["leaky-meta"].metadata if "leaky-meta" in stored else None
    if stored_meta is None:
        stored_meta = next(__import__("json").loads(r["payload"])["row"]["metadata"] for r in read_rejects(version.path) if r["item_id"] == "leaky-meta")
    assert stored_meta["api_key"] == "[redacted]"
    assert stored_meta["initial_state"]["TwitterAPI"]["password"] == "alice-backend-pw"  # environment data stays exact

    runner = CliRunner()
    direct = runner.invoke(app, ["inspect", str(version.path)])
    assert direct.exit_code == 0, direct.output
    assert version.version_id in direct.output and "[offline]" in direct.output and "irrelevance" in direct.output
    second = assemble_dataset(samples[:-2], pairs, [], config)
    os.utime(second.path / "manifest.json", (2_000_000_000, 2_000_000_000))
    listed = runner.invoke(app, ["inspect", str(config.root)])
    assert listed.exit_code == 0 and "2 version(s)" in listed.output
    assert f"newest: {second.version_id}" in listed.output
