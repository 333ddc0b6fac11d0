"""Full-set figures for `magnet eval`'s judges, against bfcl-eval's own.

1. Multi-turn, all 800 cases: per-case agreement with bfcl-eval's official `multi_turn_checker` on the
   ground truth and every seeded perturbation of `tests/evaluate/differential.py` (float-precision
   probes and text-format quirks included), with the ask-turn check off (the installed runner) and on
   (BFCL-v3's), plus our checker's verdict throughput.
2. Single-turn and relevance/irrelevance, every entry: the oracle answer (each entry's first possible
   answer) judged by bfcl-eval's `ast_checker` through our decoder, and the BFCL-v3 overall it gives.
Run: `.venv/bin/python benchmarks/eval_checker.py` (a few minutes on one core).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "evaluate"))

from differential import compare  # noqa: E402
from single_turn_oracle import oracle_calls  # noqa: E402

from magnet_core.evaluate.bfcl_data import CATEGORIES, SINGLE_TURN_CATEGORIES, load_cases, load_single_turn  # noqa: E402
from magnet_core.evaluate.replies import AssistantReply  # noqa: E402
from magnet_core.evaluate.single_turn import judge  # noqa: E402
from magnet_core.evaluate.summary import bfcl_v3_summary  # noqa: E402
from magnet_core.pools import load_pool  # noqa: E402


def multi_turn() -> dict[str, float]:
    specs = list(load_pool("bfcl").specs)
    accuracy = {}
    for check_ask_turns in (False, True):
        rows, started = [], time.perf_counter()
        for category in CATEGORIES:
            cases = load_cases(category)
            category_rows = compare(cases, specs, seed=0, check_ask_turns=check_ask_turns)
            rows += category_rows
            truth_ok = sum(r["ours"] for r in category_rows if r["answer"] == "truth_fc")
            accuracy[category] = 100.0 * truth_ok / len(cases)
        elapsed = time.perf_counter() - started
        disagree = [r for r in rows if r["official"] != r["ours"]]
        print(f"multi-turn  ask-check {'on ' if check_ask_turns else 'off'}  answers {len(rows)}  "
              f"agreement {100 * (1 - len(disagree) / len(rows)):.2f}%  official-valid {sum(r['official'] for r in rows)}  "
              f"({len(rows) / elapsed:.0f} answer pairs/s)")
        for kind, count in Counter(r["answer"] for r in disagree).most_common():
            print(f"    disagreement {kind}: {count}")
    return accuracy


def single_turn() -> dict[str, float]:
    accuracy = {}
    for category in SINGLE_TURN_CATEGORIES:
        cases = load_single_turn(category)
        failed = []
        for case in cases:
            calls = oracle_calls(case)
            text = "\n".join("<tool_call>\n" + json.dumps(call) + "\n</tool_call>" for call in calls) or "No function fits."
            if not judge(case, AssistantReply(content=text)).valid:
                failed.append(case.case_id)
        accuracy[category] = 100.0 * (len(cases) - len(failed)) / len(cases)
        print(f"single-turn {category:<23} entries {len(cases):5d}  oracle {accuracy[category]:6.2f}%"
              + (f"  not accepted: {', '.join(failed[:12])}{' ...' if len(failed) > 12 else ''}" if failed else ""))
    return accuracy


def main() -> None:
    accuracy = single_turn() | multi_turn()
    summary = bfcl_v3_summary(accuracy)
    print("BFCL-v3 summary of the oracle: " + ", ".join(f"{k} {v:.2f}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
