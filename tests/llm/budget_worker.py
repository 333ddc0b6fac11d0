"""One worker process of the shared-budget test: a real LLMClient whose spend and call slots live in a
shared store, making many concurrent calls to the fake server over HTTP.

    python budget_worker.py <listener port> <authkey hex> <store spec> <server url> <cap> <calls> <tag> <prefix>

It connects to the test's listener, says it is ready, waits for "go" (so both workers call at the same
time), then reports what it spent.
"""

from __future__ import annotations

import asyncio
import sys
from multiprocessing.connection import Client


def main() -> None:
    port, authkey, spec, url, cap, calls, tag, prefix = sys.argv[1:9]
    from magnet_core.llm.budget import Budget
    from magnet_core.llm.client import LLMClient
    from magnet_core.llm.retry import RetryPolicy
    from magnet_core.llm.shared_state import store_for
    from magnet_core.llm.types import BudgetExceededError, LLMRequest, ModelConfig

    store = store_for(spec, ".", prefix=prefix)
    client = LLMClient(retry=RetryPolicy(base_delay_s=0.002, max_delay_s=0.02))
    client.budget, client.shared = Budget(float(cap), store), store
    # $0.10 per call (1,000 prompt tokens at $100 per million); at most 3 calls in flight for the whole run
    model = ModelConfig(model="openai/fake", api_base=url, timeout_s=30.0, max_retries=0, max_concurrency=3,
                        input_cost_per_mtok=100.0, output_cost_per_mtok=0.0)
    requests = [LLMRequest(role="teacher", stage="distill", messages=({"role": "user", "content": f"{tag} item {i}"},))
                for i in range(int(calls))]
    with Client(("127.0.0.1", int(port)), authkey=bytes.fromhex(authkey)) as connection:
        connection.send("ready")
        assert connection.recv() == "go"
        results = asyncio.run(client.complete_all(requests, model))
        connection.send({"spent": sum(r.cost_usd for r in results if not isinstance(r, Exception)),
                         "ok": sum(not isinstance(r, Exception) for r in results),
                         "refused": sum(isinstance(r, BudgetExceededError) for r in results),
                         "other_errors": [repr(r) for r in results if isinstance(r, Exception)
                                          and not isinstance(r, BudgetExceededError)][:3]})


if __name__ == "__main__":
    main()
