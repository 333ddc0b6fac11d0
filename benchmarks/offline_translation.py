"""Offline translation and distillation over BFCL graph plans: call success rate and throughput.

Run: `.venv/bin/python benchmarks/offline_translation.py [--walks 2] [--seed 0]`. Prints the share of
reference calls that executed without error in the real BFCL backends (target >= 95%), the functions
that failed most, and plans/s for translation and distillation on this machine.
"""

from __future__ import annotations

import argparse
import json
import time

from magnet_core.distill.stage import DistillConfig, distill
from magnet_core.graph.stage import PlanStageConfig, build_graph, sample_plans
from magnet_core.pools import load_pool
from magnet_core.translate.stage import TranslateConfig, translate_plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--walks", type=int, default=2, help="walks per function (plans ~ 2 x 128 x walks)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pool = load_pool("bfcl")
    plans = sample_plans(build_graph(pool), pool, PlanStageConfig(walks_per_function=args.walks, seed=args.seed))
    started = time.perf_counter()
    translated = translate_plans(pool, plans, TranslateConfig(seed=args.seed))
    translate_s = time.perf_counter() - started
    started = time.perf_counter()
    distilled = distill(pool, translated.translated, DistillConfig(seed=args.seed))
    distill_s = time.perf_counter() - started
    failures = sorted(translated.calls.failures_by_function.items(), key=lambda item: -item[1])[:8]
    print(json.dumps({
        "offline": True,
        "plans": len(plans),
        "reference_calls_executed": translated.calls.executed,
        "reference_calls_ok": translated.calls.succeeded,
        "call_success_rate": round(translated.calls.success_rate, 4),
        "top_failing_functions": dict(failures),
        "translate": translated.summary(),
        "distill": distilled.summary(),
        "translate_plans_per_s": round(len(plans) / translate_s, 1),
        "distill_scenarios_per_s": round(len(translated.translated) / max(distill_s, 1e-9), 1),
    }, indent=2))


if __name__ == "__main__":
    main()
