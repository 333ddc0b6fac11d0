"""Scale of the graph stage: candidates + heuristic judging + one walk per function on synthetic pools.

Run: `.venv/bin/python benchmarks/graph_scale.py [--sizes 1000 10000 100000]`. Each size runs in its own
process so that its peak memory (max RSS) is its own. Target: 100k functions in < 120 s and < 4 GiB on
a 2-core machine, with time growing no worse than n log n from 10k to 100k (the ratio is printed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time

VERBS = ["get", "list", "create", "update", "delete", "send", "search", "fetch", "book", "cancel", "compute", "check"]
ATTRS = ["id", "name", "status", "count", "code", "date", "amount", "list", "url", "token"]


def synthetic_pool(n: int, seed: int = 0):
    """Classes of 8-16 functions over a few domain nouns each; ids flow between functions of a class and,
    more rarely, across classes (shared nouns), with a login function in a third of the classes."""
    from magnet_core.domain.functions import FunctionSpec
    from magnet_core.pools.base import FunctionPool

    rng = random.Random(seed)
    nouns = [f"noun{i}" for i in range(max(200, n // 20))]
    specs = []
    class_index = 0
    while len(specs) < n:
        tool_class = f"Class{class_index}"
        domain = rng.sample(nouns, 10)
        size = min(rng.randint(8, 16), n - len(specs))
        names = set()
        if class_index % 3 == 0 and size > 1:
            specs.append(FunctionSpec(name="login", description="Log in the user to this service.", tool_class=tool_class, source_pool="synthetic",
                                      executable=False, parameters={"type": "object", "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                                                                    "required": ["username", "password"]},
                                      response={"type": "object", "properties": {"login_status": {"type": "boolean"}}}))
            size -= 1
        while size > 0:
            verb, noun = rng.choice(VERBS), rng.choice(domain)
            name = f"{verb}_{noun}_{len(names)}"
            names.add(name)
            params = {}
            for _ in range(rng.randint(1, 3)):
                param_noun, attr = rng.choice(domain), rng.choice(ATTRS)
                params[f"{param_noun}_{attr}"] = {"type": "string", "description": f"The {attr} of the {param_noun} to {verb}."}
            outputs = {f"{noun}_{rng.choice(ATTRS)}": {"type": rng.choice(["string"] * 5 + ["integer"] * 4 + ["array"]), "description": f"The {noun} details."}
                       for _ in range(rng.randint(1, 3))}
            specs.append(FunctionSpec(name=name, description=f"{verb.capitalize()} a {noun} for the current user.", tool_class=tool_class,
                                      source_pool="synthetic", executable=False,
                                      parameters={"type": "object", "properties": params, "required": sorted(params)[:1]},
                                      response={"type": "object", "properties": outputs}))
            size -= 1
        class_index += 1

    def not_executable(specs, state):
        raise RuntimeError("synthetic benchmark pool has no implementations")

    return FunctionPool(name=f"synthetic-{n}", kind="synthetic", source="benchmark", specs=tuple(specs), session_factory=not_executable, simulated=True)


def run_one(n: int) -> dict:
    from magnet_core.graph.stage import GraphStageConfig, build_graph
    from magnet_core.graph.walks import sample_paths

    pool = synthetic_pool(n)
    cpu_start = time.process_time()
    start = time.perf_counter()
    graph = build_graph(pool, GraphStageConfig(record_fingerprint=False))
    built = time.perf_counter()
    adjacency = {node: sorted(graph.graph.successors(node)) for node in graph.graph.nodes}
    paths, counts = sample_paths(adjacency, sorted(adjacency), length=7, seed=0)
    done = time.perf_counter()
    cpu = time.process_time() - cpu_start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"n": n, "edges": graph.graph.number_of_edges(), "candidate_pairs": graph.metadata["candidate_pairs"], "paths": len(paths),
            "graph_s": round(built - start, 2), "walks_s": round(done - built, 2), "total_s": round(done - start, 2), "cpu_s": round(cpu, 2),
            "peak_rss_gib": round(peak_kib / 1024 / 1024, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    results = {}
    print(f"{'functions':>10} {'edges':>9} {'pairs':>10} {'graph s':>8} {'walks s':>8} {'total s':>8} {'cpu s':>7} {'peak GiB':>9}  (wall seconds unless cpu; pool generation not timed)")
    for n in args.sizes:
        output = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True).stdout
        row = json.loads(output.strip().splitlines()[-1])
        results[n] = row
        print(f"{n:>10} {row['edges']:>9} {row['candidate_pairs']:>10} {row['graph_s']:>8} {row['walks_s']:>8} {row['total_s']:>8} {row['cpu_s']:>7} {row['peak_rss_gib']:>9}")
    if 10000 in results and 100000 in results:
        nlogn = (100000 * math.log(100000)) / (10000 * math.log(10000))
        for label, key in (("wall", "total_s"), ("cpu", "cpu_s")):
            ratio = results[100000][key] / max(results[10000][key], 1e-9)
            print(f"{label} time ratio 100k/10k = {ratio:.2f} (n log n ratio = {nlogn:.2f}; linear = 10.00) -> {'OK' if ratio <= nlogn else 'WORSE than n log n'}")
        print(f"machine load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine: wall time includes waiting for a core)")
        big = results[100000]
        print(f"100k target (< 120 s, < 4 GiB): {'met' if big['total_s'] < 120 and big['peak_rss_gib'] < 4 else 'NOT met'}")


if __name__ == "__main__":
    main()
