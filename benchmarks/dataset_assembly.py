"""Scale of dataset assembly: dedup (MinHash/LSH), decontamination and the Parquet write.

Run: `.venv/bin/python benchmarks/dataset_assembly.py [--sizes 2000 8000 32000]`. Samples are synthetic
multi-turn trajectories with realistic query lengths, 5% planted near-duplicates. Target: dedup time
grows about linearly (the printed ratio per 4x size stays near 4, far from the 16 of all-pairs), and a
32k-sample version is assembled in well under a minute on a 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

VOCAB = [f"w{i}" for i in range(5000)]


def synthetic(n: int, seed: int = 0):
    from magnet_core.domain import ChatMessage, FunctionCall, ToolCall, Trajectory

    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i and rng.random() < 0.05:
            base = out[rng.randrange(len(out))].messages[0].content.split()
            base[rng.randrange(len(base))] = "changed"
            query = " ".join(base)
        else:
            query = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(25, 60)))
        call = ToolCall(id="c0", function=FunctionCall(name="cd", arguments={"folder": f"f{i}", "opts": {"deep": [i, {"x": None}]}}))
        messages = (
            ChatMessage(role="user", content=query),
            ChatMessage(role="assistant", tool_calls=(call,)),
            ChatMessage(role="tool", content="{}", tool_call_id="c0"),
            ChatMessage(role="assistant", content="done"),
        )
        category = rng.choice(["multi_turn", "single", "parallel", "multiple", "irrelevance"])
        out.append(Trajectory(trajectory_id=f"t{i:07d}", messages=messages, metadata={"category": category, "offline": True}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000, 32000])
    args = parser.parse_args()
    from magnet_core.dataset import AssembleConfig, DedupConfig
    from magnet_core.dataset.bfcl_index import load_index
    from magnet_core.dataset.decontaminate import decontaminate
    from magnet_core.dataset.config import DecontamConfig
    from magnet_core.dataset.dedup import deduplicate
    from magnet_core.dataset.stage import assemble_dataset

    index = load_index(8, None)
    previous = None
    for n in args.sizes:
        samples = synthetic(n)
        start = time.perf_counter()
        kept, rejects = deduplicate(samples, DedupConfig())
        dedup_s = time.perf_counter() - start
        start = time.perf_counter()
        decontaminate(kept, index, DecontamConfig())
        decontam_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as root:
            start = time.perf_counter()
            version = assemble_dataset(samples, [], [], AssembleConfig(root=root, plots=False))
            total_s = time.perf_counter() - start
        ratio = f"  dedup x{dedup_s / previous:.1f} vs previous size" if previous else ""
        print(f"n={n:>6}  dedup {dedup_s:6.2f}s ({len(rejects)} dups)  decontam {decontam_s:6.2f}s  "
              f"assemble {total_s:6.2f}s (sft {version.counts['sft']}){ratio}")
        previous = dedup_s


if __name__ == "__main__":
    main()
