"""Precision and recall of the offline dependency judge on two hand-labelled sets.

Run: `.venv/bin/python benchmarks/judge_recall.py [--show-errors]`.
- dev: the BFCL multi-turn docs, `tests/graph/bfcl_dependency_labels.json` (the judge was tuned on it).
- held-out: `benchmarks/data/heldout_pool.json` with `benchmarks/data/heldout_dependency_labels.json`,
  labels written from that pool's docs before the judge ever ran on it and never used for tuning: flows
  whose names differ (hotel_id -> property_id, pnr -> booking_reference, address -> destination).
Both are closed-world per class (every unlisted same-class pair is a non-dependency). Round-1 figures:
dev precision 0.798, recall 0.946. Prints one line per set plus per-class rows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from magnet_core.graph.label_eval import score_graph  # noqa: E402
from magnet_core.graph.stage import GraphStageConfig, build_graph  # noqa: E402
from magnet_core.pools import load_pool  # noqa: E402

SETS = {
    "dev (BFCL docs)": (("bfcl", None), ROOT / "tests/graph/bfcl_dependency_labels.json"),
    "held-out": (("openai-json", str(ROOT / "benchmarks/data/heldout_pool.json")), ROOT / "benchmarks/data/heldout_dependency_labels.json"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-errors", action="store_true", help="list false positives and false negatives")
    args = parser.parse_args()
    for label, ((kind, source), labels) in SETS.items():
        report = score_graph(build_graph(load_pool(kind, source), GraphStageConfig()), labels)
        print(f"{label:<16} precision {report['precision']:.3f}  recall {report['recall']:.3f}  "
              f"({report['correct']} correct of {report['predicted']} predicted, {report['labelled']} labelled; "
              f"kind agreement {report['kind_agreement']:.3f})")
        for name, row in report["per_class"].items():
            print(f"    {name:<20} predicted {row['predicted']:>3}  labelled {row['labelled']:>3}  correct {row['correct']:>3}")
        if args.show_errors:
            print("    false positives:", ", ".join(f"{s.split('.')[-1]}->{t.split('.')[-1]}" for s, t in report["false_positives"]))
            print("    false negatives:", ", ".join(f"{s.split('.')[-1]}->{t.split('.')[-1]}" for s, t in report["false_negatives"]))


if __name__ == "__main__":
    main()
