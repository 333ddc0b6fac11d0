"""The human-readable result: a Markdown report and a bar chart beside the paper's rows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from magnet_core.evaluate.bfcl_data import CATEGORIES
from magnet_core.evaluate.config import CategoryScore, EvalConfig
from magnet_core.evaluate.paper_scores import PAPER_ROWS, PAPER_SUITE_ROWS, SOURCE
from magnet_core.evaluate.records import CaseRecord

COLUMNS = ("overall", *CATEGORIES)
HEADERS = {"overall": "Overall", "base": "Base", "miss_func": "Miss Func", "miss_param": "Miss Param", "long_context": "Long"}


def _our_row(scores: tuple[CategoryScore, ...], overall: float) -> dict[str, float | None]:
    row: dict[str, float | None] = {column: None for column in COLUMNS}
    row["overall"] = overall
    for score in scores:
        row[score.category] = score.accuracy
    return row


def write_report(
    path: Path,
    config: EvalConfig,
    scores: tuple[CategoryScore, ...],
    overall: float,
    records: list[CaseRecord],
    chart: Path,
    cost_usd: float,
    wall_time_s: float,
    unfinished: int,
    summary: dict[str, float] | None = None,
) -> Path:
    ours = _our_row(scores, summary["multi_turn"] if config.single_turn_categories and summary else overall)
    sampled = ", ".join(f"{s.category} {s.cases}" for s in scores)
    lines = [
        f"# BFCL evaluation: {config.model_label}",
        "",
        f"Cases per category: {sampled} (sample seed {config.seed}). "
        f"Step limit per turn {config.max_steps_per_turn}; ask-turn check "
        f"{'on (BFCL-v3)' if config.check_ask_turns else 'off'}; system prompt `{config.system_prompt_role}`.",
        f"Cost ${cost_usd:.4f}, wall time {wall_time_s:.1f}s." + (f" **{unfinished} case(s) unfinished**: rerun to complete." if unfinished else ""),
        "",
        "| Model | " + " | ".join(HEADERS[c] for c in COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
        f"| **{config.model_label}** (this run) | " + " | ".join(_cell(ours[c]) for c in COLUMNS) + " |",
    ]
    for row in PAPER_ROWS:
        lines.append(f"| {row.model} | " + " | ".join(f"{getattr(row, c):.2f}" for c in COLUMNS) + " |")
    if config.single_turn_categories:
        lines += _suite_lines(config, scores, summary or {})
    lines += ["", "Accuracy judges like BFCL (calls run as written); strict-schema also fails a case with any call that "
              "breaks its parameter schema (multi-turn only).", "",
              "| Category | Cases | Accuracy | Strict-schema |", "|---|---:|---:|---:|"]
    lines += [f"| {s.category} | {s.cases} | {s.accuracy:.2f} | {s.strict_accuracy:.2f} |" for s in scores]
    lines += ["", f"Reference rows: {SOURCE}. Multi-turn overall is the mean of the four categories; with fewer than all "
              "four categories or a sample, this run's figures are not directly comparable.", "",
              f"![accuracy]({chart.name})", "", "## Failures by reason", ""]
    reasons = Counter((r.category, r.error_type) for r in records if not r.valid)
    if reasons:
        lines += ["| Category | Reason | Cases |", "|---|---|---:|"]
        lines += [f"| {category} | `{reason}` | {count} |" for (category, reason), count in sorted(reasons.items())]
    else:
        lines.append("None.")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


SUITE_COLUMNS = ("overall", "non_live_ast", "non_live_exec", "live_ast", "multi_turn", "relevance", "irrelevance")
SUITE_HEADERS = ("Overall", "Non-live AST", "Non-live Exec", "Live AST", "Multi-turn", "Relevance", "Irrelevance")


def _suite_lines(config: EvalConfig, scores: tuple[CategoryScore, ...], summary: dict[str, float]) -> list[str]:
    """BFCL-v3's overall table beside the paper's, then every category with its strict-schema figure."""
    lines = ["", "## BFCL-v3 overall (single-turn, relevance, multi-turn)", "",
             "| Model | " + " | ".join(SUITE_HEADERS) + " |", "|---|" + "---:|" * len(SUITE_COLUMNS),
             f"| **{config.model_label}** (this run) | " + " | ".join(_cell(summary.get(c)) for c in SUITE_COLUMNS) + " |"]
    lines += [f"| {row.model} | " + " | ".join(f"{getattr(row, c):.2f}" for c in SUITE_COLUMNS) + " |" for row in PAPER_SUITE_ROWS]
    lines += ["", "Overall as BFCL-v3 computes it (`magnet_core/evaluate/summary.py`); categories not run count 0. "
              "Non-live Exec is not in the installed bfcl-eval and is not scored."]
    return lines


def write_chart(path: Path, label: str, scores: tuple[CategoryScore, ...], overall: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours = _our_row(scores, overall)
    series = [(f"{label} (this run)", [float("nan") if ours[c] is None else ours[c] for c in COLUMNS])]
    series += [(row.model, [getattr(row, c) for c in COLUMNS]) for row in PAPER_ROWS]
    width = 0.8 / len(series)
    figure, axes = plt.subplots(figsize=(11, 4.5))
    for index, (name, values) in enumerate(series):
        offsets = [position + (index - len(series) / 2) * width + width / 2 for position in range(len(COLUMNS))]
        axes.bar(offsets, values, width, label=name, edgecolor="black" if index == 0 else None, linewidth=1.2 if index == 0 else 0)
    axes.set_xticks(range(len(COLUMNS)), [HEADERS[c] for c in COLUMNS])
    axes.set_ylabel("accuracy (%)")
    axes.set_title("BFCL multi-turn accuracy")
    axes.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
