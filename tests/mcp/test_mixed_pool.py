"""Mixed pools (BFCL + MCP): one scenario calls a BFCL backend and an MCP server; a clock's output is
recorded as the server gave it, never recomputed."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from magnet_core.distill.stage import DistillConfig, distill
from magnet_core.domain import FunctionSignaturePath, Plan, PlanTurn
from magnet_core.pools import load_pool
from magnet_core.translate.stage import TranslateConfig, translate_plans


def test_a_scenario_over_bfcl_and_an_mcp_clock_translates_and_distills():
    pool = load_pool("mixed", "bfcl=MathAPI | mcp=mcp-server-time")
    assert {"MathAPI", "mcp-time"} == set(pool.classes()) and pool.kind == "mixed" and not pool.simulated
    names = ("MathAPI.add", "mcp-time.get_current_time", "MathAPI.square_root")
    plan = Plan(plan_id="mixed-0", path=FunctionSignaturePath(nodes=names, seed=0),
                turns=tuple(PlanTurn(functions=(name,)) for name in names))
    started = datetime.now(timezone.utc).replace(microsecond=0)
    translated = translate_plans(pool, [plan], TranslateConfig(seed=1))
    assert not translated.rejects, translated.rejects
    result = distill(pool, translated.translated, DistillConfig(pairs_per_scenario=0))
    finished = datetime.now(timezone.utc)
    assert not result.rejects and len(result.trajectories) == 1
    trajectory = result.trajectories[0]
    assert trajectory.metadata["simulated"] is False and trajectory.metadata["source_pool"] == "bfcl+mcp-time"
    called = {call.function.name: call.id for m in trajectory.messages for call in (m.tool_calls or ())}
    assert {"add", "get_current_time", "square_root"} <= set(called)
    clock = next(json.loads(m.content) for m in trajectory.messages if m.tool_call_id == called["get_current_time"])
    # A real clock reading taken during this run (the server's answer, stored as given).
    assert started <= datetime.fromisoformat(clock["datetime"]).astimezone(timezone.utc) <= finished
    assert set(clock) == {"timezone", "datetime", "day_of_week", "is_dst"}
