"""The paper's dataset in one run: 34,000 SFT rows and 4,556 preference pairs, on 1 and on 2 worker processes.

    .venv/bin/python benchmarks/paper_scale.py [--scale 1.0] [--workers 1 2] [--pool-size 5011]
                                               [--stage-sizes 128 1000 5011] [--stage-plans 120]

Part 1 runs the offline pipeline (`target: {sft_rows, preference_pairs}` = the paper's sizes times
`--scale`, the paper's mixture ratios) over a synthetic simulated pool of `--pool-size` functions (schema-
driven outputs, marked simulated), once per worker count, each in its own process and cold workspace.
It prints wall time, SFT rows/s, peak RSS of every process of the run (the flow's, each Dask worker's, the
temporary Prefect server's), task runs, achieved vs target per category, and whether the dataset version
is the same for every worker count (it must be). Goals on a 2-core machine at scale 1: < 15 min with 2
workers, 2 workers >= 1.7x the rate of 1, peak RSS < 2 GiB per process.

Part 2 times the translate, distill and single-turn stages per item (direct calls, no orchestration) on
synthetic pools of each `--stage-sizes` size: per-item cost must not grow with the pool (within 1.5x).

The machine may be shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAPER_SFT, PAPER_PAIRS = 34_000, 4_556


# ---- the synthetic pool ---------------------------------------------------------------------------------
def write_pool(n: int, path: Path, seed: int = 0) -> Path:
    """`n` functions in classes of 8-16 (graph_scale's generator) as an OpenAI-JSON tool file."""
    sys.path.insert(0, str(HERE))
    from graph_scale import synthetic_pool

    tools = []
    for spec in synthetic_pool(n, seed).specs:
        tool = spec.to_openai_tool()
        # names unique across classes: a sample may offer functions of several classes at once
        tool["function"]["name"] = f"{spec.name}_{spec.tool_class.lower()}"
        tool["tool_class"], tool["category"], tool["response"] = spec.tool_class, spec.tool_class, spec.response
        tools.append(tool)
    path.write_text(json.dumps(tools))
    return path


# ---- part 1: one pipeline run (child process) -----------------------------------------------------------
def one_run(workers: int, scale: float, pool_file: str, root: str) -> dict:
    from flows.local_api import start_early, wait_or_explain

    wait_or_explain(start_early(), 180)
    from flows.configs import PipelineConfig
    from flows.pipeline import pipeline_flow

    runner = {"kind": "thread", "max_workers": 1} if workers == 1 else {"kind": "dask", "max_workers": workers}
    config = PipelineConfig.model_validate({
        "workdir": f"{root}/work", "run_name": f"paper-scale-{workers}", "training": None,
        "pool": {"kind": "openai-json", "source": pool_file},
        "target": {"sft_rows": round(PAPER_SFT * scale), "preference_pairs": round(PAPER_PAIRS * scale)},
        "shard_size": 16, "assemble": {"root": f"{root}/data", "plots": False}, "runner": runner})
    started = time.perf_counter()
    state = pipeline_flow(config=config, return_state=True)
    wall = time.perf_counter() - started
    summary = state.result(raise_on_failure=False)
    if not state.is_completed() or not isinstance(summary, dict):
        return {"workers": workers, "failed": str(state.message)[:2000]}
    manifest = json.loads((Path(summary["dataset_path"]) / "manifest.json").read_text())
    from tasks.refs import ref_for_existing

    return {"workers": workers, "wall_s": round(wall, 1), "dataset_version": summary["dataset_version"],
            "dataset_sha256": ref_for_existing(Path(summary["dataset_path"])).sha256[:16],  # every byte of every file
            "counts": summary["dataset_counts"], "task_runs": sum(row["shards"] for row in summary["stages"]),
            "stages": [{k: row[k] for k in ("stage", "shards", "items_in", "items_out")} for row in summary["stages"]],
            "mixture": manifest.get("mixture", []), "preference_mixture": manifest.get("preference_mixture", [])}


class TreeRSS:
    """Peak RSS (VmHWM) of a process and all its descendants, polled; each process labelled by its command."""

    def __init__(self, root_pid: int, interval_s: float = 0.5):
        self.root, self.interval = root_pid, interval_s
        self.peaks: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "TreeRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                processes = [psutil.Process(self.root), *psutil.Process(self.root).children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    status = Path(f"/proc/{process.pid}/status").read_text()
                    hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
                    label = _label(process.cmdline())
                except (OSError, StopIteration, psutil.Error):
                    continue
                self.peaks[process.pid] = (label, max(hwm, self.peaks.get(process.pid, ("", 0))[1]))
            self._stop.wait(self.interval)


def _label(cmdline: list[str]) -> str:
    text = " ".join(cmdline)
    if "uvicorn" in text:
        return "prefect-server"
    if "--one-run" in text:
        return "flow"
    if "distributed" in text or "multiprocessing" in text or "spawn_main" in text:
        return "dask-worker"
    return Path(cmdline[0]).name if cmdline else "?"


def run_pipeline_child(workers: int, scale: float, pool_file: Path, root: Path) -> dict:
    command = [sys.executable, __file__, "--one-run", str(workers), "--scale", str(scale), "--pool-file", str(pool_file),
               "--root", str(root)]
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        with TreeRSS(child.pid) as rss:
            out, err = child.communicate()
    result = json.loads(out.strip().splitlines()[-1]) if child.returncode == 0 and out.strip() else {
        "workers": workers, "failed": err[-3000:]}
    result["process_wall_s"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mib"] = sorted(((label, round(kib / 1024)) for label, kib in rss.peaks.values()
                                     if label in ("flow", "dask-worker", "prefect-server")), key=lambda x: (x[0], -x[1]))
    return result


def report_runs(results: list[dict], scale: float) -> None:
    print(f"\n== paper scale x{scale}: {round(PAPER_SFT * scale)} SFT rows, {round(PAPER_PAIRS * scale)} pairs "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores) ==")
    for result in results:
        if "failed" in result:
            print(f"workers {result['workers']}: FAILED\n{result['failed']}")
            continue
        rate = result["counts"].get("sft", 0) / result["wall_s"]
        result["rows_per_s"] = rate
        print(f"workers {result['workers']}: wall {result['wall_s']} s (process {result['process_wall_s']} s), "
              f"{rate:.1f} SFT rows/s, task runs {result['task_runs']}, dataset {result['dataset_version']} {result['counts']} "
              f"(files sha256 {result['dataset_sha256']})")
        print("  peak RSS MiB: " + ", ".join(f"{label} {mib}" for label, mib in result["peak_rss_mib"]))
        for kind in ("mixture", "preference_mixture"):
            rows = [f"{r['category']} {r['achieved']}/{r['target_count']:.0f}"
                    + (f" ({100 * (r['achieved'] - r['target_count']) / r['target_count']:+.1f}%)" if r['target_count'] else "")
                    for r in result[kind]]
            print(f"  {kind}: " + "; ".join(rows))
    ok = [r for r in results if "failed" not in r]
    if len(ok) >= 2:
        versions = {(r["dataset_version"], r["dataset_sha256"]) for r in ok}
        print(f"same dataset version and bytes for every worker count: {'yes' if len(versions) == 1 else 'NO ' + str(versions)}")
        base = next(r for r in ok if r["workers"] == 1) if any(r["workers"] == 1 for r in ok) else ok[0]
        for r in ok:
            if r is not base:
                print(f"speed-up {r['workers']} workers vs {base['workers']}: {r['rows_per_s'] / base['rows_per_s']:.2f}x")


# ---- part 2: stage cost per item vs pool size -------------------------------------------------------------
def stage_costs(size: int, plans_wanted: int, root: Path) -> dict:
    from magnet_core.distill.single_turn import SingleTurnConfig, generate_single_turn
    from magnet_core.distill.stage import DistillConfig, distill
    from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig, build_graph, sample_plans
    from magnet_core.pools import load_pool
    from magnet_core.translate.stage import TranslateConfig, translate_plans

    pool = load_pool("openai-json", str(write_pool(size, root / f"pool-{size}.json")))
    plans = sample_plans(build_graph(pool, GraphStageConfig()), pool, PlanStageConfig(max_plans=plans_wanted))[:plans_wanted]
    timings = {}

    pool.fingerprint(), pool.by_name, pool.by_class, pool.specs_outside("")  # built once per process, as in a run

    def timed(key: str, items: int, call):
        # in a worker thread, as shard tasks run: in the main thread Python 3.11's asyncio.run reprs the whole
        # result when it restores the SIGINT handler, a cost no pipeline run pays
        wall, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(1) as executor:
            value = executor.submit(call).result()
        timings[f"{key}_cpu"] = 1000 * (time.process_time() - cpu) / max(1, items)
        timings[f"{key}_wall"] = 1000 * (time.perf_counter() - wall) / max(1, items)
        return value

    translated = timed("translate_ms_per_plan", len(plans), lambda: translate_plans(pool, plans, TranslateConfig()))
    timed("distill_ms_per_scenario", len(translated.translated), lambda: distill(pool, translated.translated, DistillConfig()))
    # walks on a bigger graph run longer (fewer dead ends): per executed reference call is the like-for-like unit
    calls = max(1, translated.calls.executed)
    for stage, items in (("translate", len(plans)), ("distill", len(translated.translated))):
        per_item = f"{stage}_ms_per_plan" if stage == "translate" else f"{stage}_ms_per_scenario"
        for clock in ("cpu", "wall"):
            timings[f"{stage}_ms_per_call_{clock}"] = timings[f"{per_item}_{clock}"] * items / calls
    single = SingleTurnConfig(single=plans_wanted // 2, parallel=0, multiple=plans_wanted // 4, irrelevance=plans_wanted // 4)
    timed("single_turn_ms_per_sample", plans_wanted, lambda: generate_single_turn(pool, single))
    return {"functions": size, "plans": len(plans), "scenarios": len(translated.translated), "calls": calls,
            **{k: round(v, 2) for k, v in timings.items()}}


def report_stage_costs(rows: list[dict]) -> None:
    print(f"\n== stage ms/item vs pool size: CPU ms (wall ms), load average {os.getloadavg()[0]:.1f} ==")
    keys = ("translate_ms_per_plan", "translate_ms_per_call", "distill_ms_per_scenario", "distill_ms_per_call",
            "single_turn_ms_per_sample")
    print(f"{'functions':>10} {'plans':>6} {'calls':>6} " + " ".join(f"{k:>26}" for k in keys))
    for row in rows:
        cells = [f"{row[k + '_cpu']:.2f} ({row[k + '_wall']:.2f})" for k in keys]
        print(f"{row['functions']:>10} {row['plans']:>6} {row['calls']:>6} " + " ".join(f"{c:>26}" for c in cells))
    for key in keys:
        values = [row[key + "_cpu"] for row in rows if row[key + "_cpu"] > 0]
        if values:
            ratio = max(values) / min(values)
            print(f"{key} (CPU): max/min = {ratio:.2f} ({'within' if ratio <= 1.5 else 'NOT within'} 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the paper's sizes")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--pool-size", type=int, default=5011)
    parser.add_argument("--stage-sizes", type=int, nargs="*", default=[128, 1000, 5011])
    parser.add_argument("--stage-plans", type=int, default=120)
    parser.add_argument("--one-run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stage-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pool-file", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(one_run(args.one_run, args.scale, args.pool_file, args.root)))
        return
    if args.stage_size:
        print(json.dumps(stage_costs(args.stage_size, args.stage_plans, Path(args.root))))
        return
    with tempfile.TemporaryDirectory(prefix="paper-scale-") as tmp:
        root = Path(tmp)
        if args.workers:
            pool_file = write_pool(args.pool_size, root / f"pool-{args.pool_size}.json")
            results = [run_pipeline_child(w, args.scale, pool_file, root / f"workers-{w}") for w in args.workers]
            report_runs(results, args.scale)
        rows = []
        for size in args.stage_sizes:
            out = subprocess.run([sys.executable, __file__, "--stage-size", str(size), "--stage-plans", str(args.stage_plans),
                                  "--root", str(root)], capture_output=True, text=True)
            if out.returncode != 0:
                print(f"stage costs at {size} functions failed:\n{out.stderr[-2000:]}")
                continue
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if rows:
            report_stage_costs(rows)


if __name__ == "__main__":
    main()
