"""BFCL's score aggregation, as its BFCL-v3 leaderboard computed the overall figure the paper reports.

From bfcl-eval's `eval_runner_helper.generate_leaderboard_csv` of the BFCL-v3 releases:
- simple AST (non-live) = unweighted mean of simple_python, simple_java, simple_javascript;
- non-live AST summary = unweighted mean of simple, multiple, parallel, parallel_multiple;
- non-live overall = unweighted mean of those four and irrelevance;
- live AST summary = count-weighted mean of live_simple, live_multiple, live_parallel, live_parallel_multiple;
- live overall = count-weighted mean of those four, live_irrelevance and live_relevance;
- multi-turn overall = unweighted mean of base, miss_func, miss_param, long_context;
- irrelevance = unweighted mean of irrelevance and live_irrelevance; relevance = live_relevance;
- overall = unweighted mean of live overall, non-live overall and multi-turn overall.
A category not run counts as 0 with its full size as weight (BFCL's `get_category_score`), so a partial
run's overall is a lower bound. The installed package (BFCL-v4) weighs in agentic categories
(web search, memory) that need live services; we report the v3 overall, which the paper's 68.01 is.
Non-live executable categories of v3 are not in the package and are not scored.
"""

from __future__ import annotations

FULL_SIZES = {
    "simple_python": 400, "simple_java": 100, "simple_javascript": 50, "multiple": 200, "parallel": 200,
    "parallel_multiple": 200, "irrelevance": 240, "live_simple": 258, "live_multiple": 1053, "live_parallel": 16,
    "live_parallel_multiple": 24, "live_irrelevance": 884, "live_relevance": 16,
    "base": 200, "miss_func": 200, "miss_param": 200, "long_context": 200,
}
Score = tuple[float, int]  # (accuracy percent, weight)


def _unweighted(scores: list[Score]) -> Score:
    return sum(a for a, _ in scores) / len(scores), sum(n for _, n in scores)


def _weighted(scores: list[Score]) -> Score:
    total = sum(n for _, n in scores)
    return (sum(a * n for a, n in scores) / total if total else 0.0), total


def bfcl_v3_summary(accuracy: dict[str, float]) -> dict[str, float]:
    """Section scores and the overall (percent) from per-category accuracies (missing categories: 0)."""
    s = {name: (accuracy.get(name, 0.0), size) for name, size in FULL_SIZES.items()}
    simple = _unweighted([s["simple_python"], s["simple_java"], s["simple_javascript"]])
    non_live_parts = [simple, s["multiple"], s["parallel"], s["parallel_multiple"]]
    live_parts = [s["live_simple"], s["live_multiple"], s["live_parallel"], s["live_parallel_multiple"]]
    non_live = _unweighted(non_live_parts + [s["irrelevance"]])
    live = _weighted(live_parts + [s["live_irrelevance"], s["live_relevance"]])
    multi_turn = _unweighted([s["base"], s["miss_func"], s["miss_param"], s["long_context"]])
    return {
        "overall": _unweighted([live, non_live, multi_turn])[0],
        "non_live_ast": _unweighted(non_live_parts)[0],
        "non_live_overall": non_live[0],
        "live_ast": _weighted(live_parts)[0],
        "live_overall": live[0],
        "multi_turn": multi_turn[0],
        "relevance": s["live_relevance"][0],
        "irrelevance": _unweighted([s["irrelevance"], s["live_irrelevance"]])[0],
    }
