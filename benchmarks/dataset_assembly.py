"""Scale of dataset assembly: dedup time (MinHash/LSH) and the assembly's peak memory, per input size.

Run: `.venv/bin/python benchmarks/dataset_assembly.py [--sizes 2000 8000] [--batch 16]`. Samples are synthetic
multi-turn trajectories with realistic query lengths, 5% planted near-duplicates, each carrying its own
parsed tool schemas (a class of 12 functions, as samples read from a shard do). Each size runs in its own
process; samples are made batch by batch as assembly asks for them (as the pipeline reads shards), so
what grows with the size is assembly's own memory. Targets: dedup time grows about linearly (the printed
ratio per 4x size stays near 4, far from the 16 of all-pairs); assembly's peak RSS above the process's
start grows far slower than the input (`KiB/sample` falls as the size grows; it was ~24 KiB per sample
plus the dedup index when assembly held every sample).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

VOCAB = [f"w{i}" for i in range(5000)]
CATEGORIES = ["multi_turn", "single", "parallel", "multiple", "irrelevance"]
TOOL_TEMPLATE = json.dumps({"type": "function", "function": {
    "name": "NAME", "description": "Does one thing of class CLASS with care; " + "detail " * 40,
    "parameters": {"type": "object", "properties": {f"p{k}": {"type": "string", "description": "a parameter " * 8}
                                                    for k in range(5)}, "required": ["p0"]}}})


def _query(i: int, seed: int) -> str:
    rng = random.Random(seed * 1_000_003 + i)
    return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(25, 60)))


def sample(i: int, seed: int = 0):
    """Sample `i`, made from the seed alone (a near-duplicate regenerates the query it copies)."""
    from magnet_core.domain import ChatMessage, FunctionCall, ToolCall, Trajectory

    rng = random.Random(seed * 7_000_003 + i)
    query = _query(i, seed)
    if i and rng.random() < 0.05:
        words = _query(rng.randrange(i), seed).split()
        words[rng.randrange(len(words))] = "changed"
        query = " ".join(words)
    tool_class = f"C{rng.randrange(50)}"
    tools = tuple(json.loads(TOOL_TEMPLATE.replace("NAME", f"{tool_class}.f{k}").replace("CLASS", tool_class)) for k in range(12))
    call = ToolCall(id="c0", function=FunctionCall(name="cd", arguments={"folder": f"f{i}", "opts": {"deep": [i, {"x": None}]}}))
    messages = (
        ChatMessage(role="user", content=query),
        ChatMessage(role="assistant", tool_calls=(call,)),
        ChatMessage(role="tool", content="{}", tool_call_id="c0"),
        ChatMessage(role="assistant", content="done"),
    )
    return Trajectory(trajectory_id=f"t{i:07d}", messages=messages, tools=tools,
                      metadata={"category": rng.choice(CATEGORIES), "offline": True})


def synthetic(n: int, seed: int = 0) -> list:
    return [sample(i, seed) for i in range(n)]


def batches(n: int, size: int) -> Iterator:
    from magnet_core.dataset.records import SampleBatch

    for start in range(0, n, size):
        yield SampleBatch(trajectories=[sample(i) for i in range(start, min(n, start + size))])


def _rss_kib(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith(field))


def one_size(n: int, batch: int) -> dict:
    """In a fresh process: dedup's CPU time (keys and the pass over them), then a streamed assembly and its peak RSS."""
    from magnet_core.dataset import AssembleConfig, DedupConfig
    from magnet_core.dataset.bfcl_index import load_index
    from magnet_core.dataset.dedup import dedup_keys, deduplicate_keys
    from magnet_core.dataset.stage import assemble_batches

    load_index(8, None)  # the BFCL index is the same at every size: loaded before the baseline
    ids, keys, dedup_s = [], [], 0.0  # CPU seconds: the machine may be shared, and dedup is one thread
    for part in batches(n, batch):
        start = time.process_time()
        ids += [t.trajectory_id for t in part.trajectories]
        keys += [dedup_keys(t, DedupConfig()) for t in part.trajectories]
        dedup_s += time.process_time() - start
    start = time.process_time()
    _, drops = deduplicate_keys(ids, keys, DedupConfig())
    dedup_s += time.process_time() - start
    del ids, keys
    with open("/proc/self/clear_refs", "w") as handle:  # resets VmHWM to the current RSS
        handle.write("5")
    base = _rss_kib("VmRSS")
    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        version = assemble_batches(batches(n, batch), AssembleConfig(root=root, plots=False))
        total_s = time.perf_counter() - start
    return {"n": n, "dedup_s": dedup_s, "dups": len(drops), "assemble_s": total_s, "sft": version.counts["sft"],
            "rss_base_mib": base / 1024, "rss_growth_mib": (_rss_kib("VmHWM") - base) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000])
    parser.add_argument("--batch", type=int, default=16, help="samples per batch (the pipeline's shard size)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.batch)))
        return
    previous = None
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--batch", str(args.batch)], capture_output=True, text=True)
        if out.returncode:
            print(f"n={n}: failed\n{out.stderr[-3000:]}")
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = f"  dedup x{row['dedup_s'] / previous['dedup_s']:.1f}, RSS growth x{row['rss_growth_mib'] / previous['rss_growth_mib']:.2f} " \
                f"for x{n / previous['n']:.0f} samples" if previous else ""
        print(f"n={n:>6}  dedup {row['dedup_s']:6.2f}s CPU ({row['dups']} dups)  assemble {row['assemble_s']:6.2f}s (sft {row['sft']})  "
              f"peak RSS +{row['rss_growth_mib']:.0f} MiB over {row['rss_base_mib']:.0f} "
              f"({1024 * row['rss_growth_mib'] / n:.1f} KiB/sample){ratio}")
        previous = row


if __name__ == "__main__":
    main()
