"""Single-turn yield with every role on a model, against the offline default, in one run.

The query writer, call writer and teacher of the single-turn stage run on the project's test server in
`roles` mode (real litellm over HTTP), well-behaved and with a share of bad answers of every kind
(unparseable, empty, a made-up function, a leak, a writer using a value nobody gave), which are re-asked.
Printed per setup: samples kept of those asked, reject reasons, requests per role, bad answers served.

    python benchmarks/single_turn_roles.py [--per-kind 25] [--bad-rates 0,0.1] [--seed 5]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import magnet_core  # noqa: E402,F401  - offline-safe environment first

CAUGHT_WITHOUT_JUDGE = ("invalid_json", "unknown_function", "empty", "leak", "ungrounded")  # paraphrased leaks: leak judge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-kind", type=int, default=25)
    parser.add_argument("--bad-rates", default="0,0.1")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    from magnet_core.distill.single_turn import KINDS, SingleTurnConfig, generate_single_turn
    from magnet_core.llm.client import LLMClient
    from magnet_core.llm.fake_answers import AnswerRules
    from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
    from magnet_core.llm.types import ModelConfig
    from magnet_core.pools import load_pool
    from magnet_core.roles.llm_role import RoleModels

    pool = load_pool("bfcl")
    counts = {kind: args.per_kind for kind in KINDS}
    asked = len(KINDS) * args.per_kind

    def show(label: str, result, seconds: float, extra: str = "") -> None:
        reasons = Counter(r.reason for r in result.rejects)
        print(f"{label:<24} kept {len(result.trajectories):>4} of {asked} ({len(result.trajectories) / asked:.1%})"
              f" in {seconds:5.1f} s; rejects {dict(reasons.most_common())}{extra}")

    start = time.perf_counter()
    show("offline", generate_single_turn(pool, SingleTurnConfig(seed=args.seed, **counts)), time.perf_counter() - start)
    for rate in (float(r) for r in args.bad_rates.split(",")):
        rules = AnswerRules(mode="roles", bad_rate=rate, bad_kinds=CAUGHT_WITHOUT_JUDGE)
        with FakeServerThread(FakeServerConfig(answers=rules)) as server:
            model = ModelConfig(model="openai/fake-teacher", api_base=server.url, timeout_s=30.0, max_retries=1)
            config = SingleTurnConfig(seed=args.seed, models=RoleModels(query_writer=model, call_writer=model, teacher=model),
                                      **counts)
            start = time.perf_counter()
            result = generate_single_turn(pool, config, client=LLMClient())
            seconds = time.perf_counter() - start
            stats = server.stats.as_dict()
        show(f"every role, {rate:.0%} bad", result, seconds,
             f"\n{'':<24} requests by role {stats['by_role']}; bad answers {stats['by_bad_answer']}")


if __name__ == "__main__":
    main()
