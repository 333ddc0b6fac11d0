"""MCP pools: calls/s through one stdio server, and across N scenarios (one server each) in parallel.

Run: `.venv/bin/python benchmarks/mcp_pool.py [--source CMD] [--tool NAME --args JSON] [--calls 300]
[--scenarios 8]`. Default: the project's fault server (`echo`, no I/O beyond the protocol), so the figures
are the factory's own per-call overhead (executor, argument check, path mapping, the mcp client, the
reaper-supervised stdio pipe). Also prints server start-up time per scenario, the cost that dominates
short scenarios. Try `--source mcp-server-git --tool git_status --args '{"repo_path": "/workspace/mcp-git"}'`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from magnet_core.domain.calls import FunctionCall
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools import load_pool

FAULT_SERVER = Path(__file__).resolve().parents[1] / "magnet_core" / "execution" / "mcp_fault_server.py"


def scenario(pool, tool_class: str, call: FunctionCall, calls: int, seed: int) -> tuple[float, float, int]:
    """(start-up seconds, call seconds, successful calls) for one scenario with its own server."""
    started = time.perf_counter()
    session = pool.new_session(None, pool.scenario_state([tool_class], seed))
    with CallExecutor(session, timeout_s=30) as executor:
        session.start([tool_class])
        ready = time.perf_counter()
        ok = sum(executor.execute(call).ok for _ in range(calls))
        done = time.perf_counter()
    return ready - started, done - ready, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default=f"python {FAULT_SERVER} --state {{workdir}}")
    parser.add_argument("--tool", default="echo")
    parser.add_argument("--args", default='{"text": "hello"}')
    parser.add_argument("--calls", type=int, default=300, help="calls per scenario")
    parser.add_argument("--scenarios", type=int, default=8, help="parallel scenarios, one server each")
    args = parser.parse_args()
    pool = load_pool("mcp", args.source)
    spec = next(s for s in pool.specs if s.name == args.tool)
    call = FunctionCall(name=args.tool, arguments=json.loads(args.args))

    start_s, call_s, ok = scenario(pool, spec.tool_class, call, args.calls, seed=0)
    one = {"startup_s": round(start_s, 3), "calls": args.calls, "ok": ok, "calls_per_s": round(args.calls / call_s, 1),
           "ms_per_call": round(1000 * call_s / args.calls, 3)}

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.scenarios) as workers:
        results = list(workers.map(lambda i: scenario(pool, spec.tool_class, call, args.calls, seed=i), range(args.scenarios)))
    wall = time.perf_counter() - started
    total = args.calls * args.scenarios
    calls_wall = max(r[1] for r in results)
    parallel = {"scenarios": args.scenarios, "calls": total, "ok": sum(r[2] for r in results),
                "wall_s": round(wall, 2), "calls_per_s_incl_startup": round(total / wall, 1),
                "calls_per_s_calls_only": round(total / calls_wall, 1),
                "startup_s_median": round(statistics.median(r[0] for r in results), 3)}
    print(json.dumps({"source": args.source, "tool": args.tool, "one_server": one, "parallel": parallel}, indent=2))


if __name__ == "__main__":
    main()
