"""Teacher-call throughput: the factory's LLMClient against a bare `litellm.acompletion` loop.

Both run in one process and one run against the project's fake OpenAI-compatible server (a separate
process, so its work does not compete with the clients for the GIL), with the same latency, the same
concurrency and distinct prompts, cache disabled so both pay real HTTP. Target: factory >= 0.8 x bare.

    python benchmarks/teacher_throughput.py --calls 2000 --concurrency 64 --latency-ms 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from magnet_core.llm.admission import AdmissionConfig  # noqa: E402
from magnet_core.llm.client import LLMClient  # noqa: E402
from magnet_core.llm.litellm_loader import import_litellm  # noqa: E402
from magnet_core.llm.types import LLMRequest, ModelConfig  # noqa: E402

MODEL = "openai/fake-teacher"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, latency_ms: float, *extra: str, start_timeout_s: float = 60) -> subprocess.Popen:
    """`magnet fake-llm` as its own process; `extra` are further CLI options (e.g. `--mode roles`)."""
    command = [sys.executable, "-m", "magnet_core.cli.main", "fake-llm", "--port", str(port),
               "--latency-ms", str(latency_ms), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + start_timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()  # type: ignore[union-attr]
        if "listening on" in line:
            return process
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("fake server did not start")


def messages(index: int, tag: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are a teacher model answering with function calls."},
            {"role": "user", "content": f"[{tag}] request {index}: list the files in folder docs and read a.txt"}]


async def bare_loop(url: str, indices: range, concurrency: int) -> tuple[float, float]:
    """Wall and CPU seconds for a plain semaphore-bounded `litellm.acompletion` loop over `indices`."""
    litellm = import_litellm()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with semaphore:
            await litellm.acompletion(model=MODEL, api_base=url, api_key="no-key-required",
                                      messages=messages(index, "bare"), timeout=60, num_retries=0, max_retries=0)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in indices))
    return time.perf_counter() - started, time.process_time() - cpu


async def factory_client(client: LLMClient, model: ModelConfig, indices: range) -> tuple[float, float]:
    """Wall and CPU seconds for the factory client over `indices` (cache disabled: every call is real HTTP)."""
    requests = [LLMRequest(role="teacher", stage="bench", messages=tuple(messages(i, "factory"))) for i in indices]
    started, cpu = time.perf_counter(), time.process_time()
    results = await client.complete_all(requests, model)
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    failures = [r for r in results if isinstance(r, Exception)]
    if failures:
        raise RuntimeError(f"{len(failures)} factory calls failed, first: {failures[0]}")
    return elapsed


async def main_async(args: argparse.Namespace, url: str) -> None:
    client = LLMClient(cache_dir=None, admission=AdmissionConfig())
    model = ModelConfig(model=MODEL, api_base=url, max_concurrency=args.concurrency, timeout_s=60)
    await bare_loop(url, range(-64, 0), args.concurrency)  # warm litellm's shared HTTP client for both
    # Segments in A-B, B-A, A-B ... order, so drift in machine load during the run favours neither side.
    bounds = [args.calls * r // args.rounds for r in range(args.rounds + 1)]
    bare_s = factory_s = bare_cpu = factory_cpu = 0.0
    for r in range(args.rounds):
        segment = range(bounds[r], bounds[r + 1])
        for side in (("bare", "factory") if r % 2 == 0 else ("factory", "bare")):
            if side == "bare":
                wall, cpu = await bare_loop(url, segment, args.concurrency)
                bare_s, bare_cpu = bare_s + wall, bare_cpu + cpu
            else:
                wall, cpu = await factory_client(client, model, segment)
                factory_s, factory_cpu = factory_s + wall, factory_cpu + cpu
    bare, factory = args.calls / bare_s, args.calls / factory_s
    snapshot = client.limiter_snapshot(model)
    totals = client.totals().run
    print(f"calls={args.calls} per side in {args.rounds} alternating segments, concurrency={args.concurrency}, "
          f"server_latency_ms={args.latency_ms:g}")
    print(f"bare litellm.acompletion loop: {bare:8.1f} calls/s")
    print(f"factory LLMClient:             {factory:8.1f} calls/s  (admission limit at end: {snapshot.limit:g}, "
          f"cuts: {snapshot.decreases}, retries: {totals.retries}, failed: {totals.failed_calls})")
    print(f"client CPU per call:           bare {1000 * bare_cpu / args.calls:.2f} ms, "
          f"factory {1000 * factory_cpu / args.calls:.2f} ms (CPU-bound on a shared machine: this decides the rates)")
    print(f"ratio factory/bare:            {factory / bare:8.3f}  (target >= 0.8)")
    ideal = args.concurrency / (args.latency_ms / 1000) if args.latency_ms else float("inf")
    print(f"ideal (concurrency/latency):   {ideal:8.1f} calls/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--rounds", type=int, default=4, help="alternating segments per side (noise control)")
    args = parser.parse_args()
    port = free_port()
    server = start_server(port, args.latency_ms)
    try:
        asyncio.run(main_async(args, f"http://127.0.0.1:{port}/v1"))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
