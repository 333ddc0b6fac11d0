"""Verdict throughput of the BFCL multi-turn checker on all 800 cases, and its two reference points.

Replays every case's ground truth as a model answer (must score 100%) and the same answer with the last
call of each turn dropped (must score 0%), timing `check_case` (two fresh backend sets per case, every
call through the project's executor). Run: `.venv/bin/python benchmarks/eval_checker.py`.
"""

from __future__ import annotations

import time

from magnet_core.evaluate.bfcl_data import CATEGORIES, load_cases
from magnet_core.evaluate.checker import check_case
from magnet_core.evaluate.ground_truth import parse_ground_truth_turns
from magnet_core.pools import load_pool


def main() -> None:
    specs = list(load_pool("bfcl").specs)
    by_name = {spec.name: spec for spec in specs}
    total_cases, total_s = 0, 0.0
    for category in CATEGORIES:
        cases = load_cases(category)
        started = time.perf_counter()
        oracle_ok = dropped_ok = 0
        for case in cases:
            truth = parse_ground_truth_turns(case.ground_truth, by_name)
            oracle_ok += check_case(case, [[turn] if turn else [] for turn in truth], truth, specs).valid
            dropped = [[turn[:-1]] if turn[:-1] else [] for turn in truth]
            dropped_ok += check_case(case, dropped, truth, specs).valid
        elapsed = time.perf_counter() - started
        total_cases += 2 * len(cases)
        total_s += elapsed
        print(f"{category:<13} cases {len(cases):4d}  oracle {100 * oracle_ok / len(cases):6.2f}%  "
              f"drop-last {100 * dropped_ok / len(cases):6.2f}%  verdicts/s {2 * len(cases) / elapsed:7.1f}")
    print(f"all           verdicts {total_cases}  in {total_s:.1f}s  ({total_cases / total_s:.1f}/s)")


if __name__ == "__main__":
    main()
