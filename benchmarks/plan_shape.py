"""Multi-turn shape: mean turns and calls per translated multi-turn scenario, default vs paper settings.

Run: `.venv/bin/python benchmarks/plan_shape.py [--max-plans N]`. Builds the BFCL graph, samples plans
(P and P') with each setting, translates them offline in the real backends and prints turns and calls per
kept scenario beside the paper's 4.71 turns / 15.1 calls. The paper settings are `walk_length: 15,
merge_p: 0.85, max_functions_per_turn: 5, walk_revisits: true` under `plans:` in a run config.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig, build_graph, sample_plans  # noqa: E402
from magnet_core.pools import load_pool  # noqa: E402
from magnet_core.translate.stage import TranslateConfig, translate_plans  # noqa: E402

SETTINGS = {
    "default": {},
    "paper": {"walk_length": 15, "merge_p": 0.85, "max_functions_per_turn": 5, "walk_revisits": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-plans", type=int, default=None, help="cap on paths turned into plans")
    args = parser.parse_args()
    pool = load_pool("bfcl")
    graph = build_graph(pool, GraphStageConfig())
    print("paper: 4.71 turns, 15.1 calls per multi-turn sample")
    for name, settings in SETTINGS.items():
        plans = sample_plans(graph, pool, PlanStageConfig(max_plans=args.max_plans, **settings))
        started = time.perf_counter()
        result = translate_plans(pool, plans, TranslateConfig(seed=0))
        turns = [len(item.turns) for item in result.translated]
        calls = [sum(len(turn.reference_calls) for turn in item.turns) for item in result.translated]
        rejects = ", ".join(f"{k} {v}" for k, v in sorted(Counter(r.reason for r in result.rejects).items()))
        print(f"{name:<8} {settings or '(PlanStageConfig defaults)'}")
        print(f"         plans {len(plans)}, kept {len(turns)} (rejects: {rejects or 'none'}) in {time.perf_counter() - started:.1f} s")
        print(f"         turns mean {statistics.fmean(turns):.2f}, calls mean {statistics.fmean(calls):.2f} per scenario; "
              f"plans: turns {statistics.fmean(len(p.turns) for p in plans):.2f}, calls {statistics.fmean(len(p.functions) for p in plans):.2f}")


if __name__ == "__main__":
    main()
