"""The whole pipeline on a teacher model: plans/s and calls/s against a bare `litellm.acompletion` loop.

Every model-backed role (query writer, call writer, teacher, negative sampler, error judge, student, and
the single-turn query writer, call writer and teacher) runs on the project's test server in `roles` mode, started as its own process
with injected latency, reached by real litellm over HTTP. In one run: a bare semaphore-bounded
`litellm.acompletion` loop at the pipeline's concurrency, then the pipeline flow (training off, empty
cache, one shard per stage so `--concurrency` is the calls in flight), then the same loop replaying
exactly the pipeline's request bodies (recorded by the server: same messages, tools and sizes), then the
tiny-prompt loop again. The
pipeline's calls/s is counted by the server (its requests over the window from the first request to the
last answer), so orchestration between stages is not charged to the teacher calls; plans/s is over the
whole flow. Target: pipeline calls/s >= 0.8 x the bare loop over the same requests (litellm's own cost
of large tool payloads is then charged to both sides; the tiny-prompt ratio is printed too).

    python benchmarks/teacher_pipeline.py [--plans 80] [--concurrency 16] [--latency-ms 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import magnet_core  # noqa: E402,F401  - offline-safe environment before Prefect starts
from teacher_throughput import bare_loop, free_port, start_server  # noqa: E402

MODEL = "openai/fake-teacher"


def start_roles_server(port: int, latency_ms: float):
    return start_server(port, latency_ms, "--mode", "roles", "--record-requests", start_timeout_s=120)


def server_get(port: int, path: str, post: bool = False) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if post else "GET")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


async def replay_loop(url: str, bodies: list[dict], concurrency: int) -> float:
    """Wall seconds for a bare `litellm.acompletion` loop sending exactly the pipeline's requests."""
    from magnet_core.llm.litellm_loader import import_litellm

    litellm = import_litellm()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(body: dict) -> None:
        extra = {k: body[k] for k in ("temperature", "tools") if body.get(k)}
        async with semaphore:
            await litellm.acompletion(model=MODEL, api_base=url, api_key="no-key-required", messages=body["messages"],
                                      timeout=60, num_retries=0, max_retries=0, **extra)

    started = time.perf_counter()
    await asyncio.gather(*(one(body) for body in bodies))
    return time.perf_counter() - started


def pipeline_config(root: Path, url: str, args: argparse.Namespace):
    from flows.configs import PipelineConfig

    model = {"model": MODEL, "api_base": url, "max_concurrency": args.concurrency, "timeout_s": 60, "max_retries": 2}
    big = 10_000
    return PipelineConfig.model_validate({
        "workdir": str(root / "work"), "shard_size": big, "training": None,
        "plans": {"max_plans": args.plans},
        "models": {"teacher": model},  # one alias: every role of every configured stage
        "translate": {"max_concurrency": args.concurrency},
        "distill": {"pairs_per_scenario": 1, "mined_per_scenario": 1, "max_concurrency": args.concurrency},
        "single_turn": {"single": 2, "parallel": 1, "multiple": 1, "irrelevance": 1, "max_concurrency": args.concurrency},
        "assemble": {"root": str(root / "data"), "plots": False},
    })


def warm_up(root: Path) -> None:
    """Start the embedded Prefect server and import litellm before timing (a served pipeline has both)."""
    from flows.configs import PipelineConfig
    from flows.pipeline import pipeline_flow
    from magnet_core.llm.litellm_loader import import_litellm

    import_litellm()
    config = PipelineConfig.model_validate({"workdir": str(root / "warm"), "training": None, "plans": {"max_plans": 1},
                                            "single_turn": {"single": 0, "parallel": 0, "multiple": 0, "irrelevance": 0},
                                            "assemble": {"root": str(root / "warm-data"), "plots": False}})
    pipeline_flow(config=config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=80, help="paths turned into plans (each gives P and P')")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--bare-calls", type=int, default=800, help="calls of each bare-loop segment")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    server = start_roles_server(port, args.latency_ms)
    try:
        with tempfile.TemporaryDirectory(prefix="teacher-pipeline-") as tmp:
            root = Path(tmp)
            warm_up(root)
            asyncio.run(bare_loop(url, range(-64, 0), args.concurrency))  # warm litellm's HTTP client
            bare_s = asyncio.run(bare_loop(url, range(0, args.bare_calls), args.concurrency))[0]
            server_get(port, "/stats/reset", post=True)
            server_get(port, "/requests/take", post=True)
            from flows.pipeline import pipeline_flow

            started = time.perf_counter()
            summary = pipeline_flow(config=pipeline_config(root, url, args))
            wall = time.perf_counter() - started
            stats = server_get(port, "/stats")
            bodies = server_get(port, "/requests/take", post=True)["requests"]
            replay_s = asyncio.run(replay_loop(url, bodies, args.concurrency))
            bare_s += asyncio.run(bare_loop(url, range(args.bare_calls, 2 * args.bare_calls), args.concurrency))[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
    stages = {row["stage"]: row for row in summary["stages"]}
    plans = stages["translate"]["items_in"]
    window = (stats["last_answer_s"] or 0) - (stats["first_request_s"] or 0)
    pipeline_rate = stats["chat_requests"] / window if window > 0 else 0.0
    bare_rate = 2 * args.bare_calls / bare_s
    replay_rate = len(bodies) / replay_s
    print(f"pipeline: {plans} plans, {stats['chat_requests']} teacher calls, concurrency={args.concurrency}, "
          f"server_latency_ms={args.latency_ms:g}, flow wall {wall:.1f} s, LLM window {window:.1f} s")
    print(f"stages: " + ", ".join(f"{name} {row['items_out']}/{row['items_in']}" for name, row in stages.items()))
    print(f"calls by role: {stats['by_role']}")
    print(f"dataset version: {summary.get('dataset_version')}")
    print(f"plans/s (whole flow):        {plans / wall:8.2f}")
    print(f"pipeline calls/s (server):   {pipeline_rate:8.1f}")
    print(f"bare loop, same requests:    {replay_rate:8.1f}  (the pipeline's {len(bodies)} request bodies replayed)")
    print(f"bare loop, tiny prompts:     {bare_rate:8.1f}  ({2 * args.bare_calls} calls in two segments around the pipeline)")
    print(f"ratio pipeline/bare (same requests): {pipeline_rate / replay_rate:6.3f}  (goal >= 0.8)")
    print(f"ratio pipeline/bare (tiny prompts):  {pipeline_rate / bare_rate:6.3f}  (payload size included)")


if __name__ == "__main__":
    main()
