"""A stage's summary row, its line in the run's Prefect log, and the check that a stage kept enough.

A stage that rejects most of its items still "succeeds" as code, but the dataset it leaves is not what
the operator asked for: below `min_keep_share` the run ends Failed with a message that names the top
reject reasons, so a red run in the UI says why, and a green one means the stages kept their items.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tasks.task_log import format_reasons

KEEP_CHECKED = ("translate", "distill", "single_turn")  # item-in -> item-out stages (graph/plans change units)


class StageShortfall(RuntimeError):
    """A stage kept fewer than the configured share of its items: the run ends Failed with this message."""

    def __init__(self, stage: str, message: str):
        self.stage, self.unfinished = stage, []
        super().__init__(message)


def stage_row(stage: str, outputs: list[Any], state_names: list[str]) -> dict[str, Any]:
    reasons: Counter = Counter()
    for output in outputs:
        reasons.update(output.summary.get("reject_reasons", {}))
    return {"stage": stage, "shards": len(outputs), "cached": state_names.count("Cached"),
            "items_in": sum(o.items_in for o in outputs), "items_out": sum(o.items_out for o in outputs),
            "rejects": sum(o.rejects for o in outputs), "reject_reasons": dict(reasons.most_common())}


def report_stage(row: dict[str, Any], min_keep_share: float) -> None:
    """Log the row (INFO, WARNING when items were rejected); raise `StageShortfall` below the keep share."""
    from prefect.logging import get_run_logger

    logger = get_run_logger()
    stage, items_in, items_out = row["stage"], row["items_in"], row["items_out"]
    reasons = row.get("reject_reasons") or {}
    line = (f"stage {stage}: {row['shards']} shard(s) ({row['cached']} cached), {items_in} in, {items_out} out, "
            f"{row['rejects']} rejected")
    if row["rejects"]:
        logger.warning("%s; top reasons: %s", line, format_reasons(reasons) or "unrecorded")
    else:
        logger.info(line)
    if stage.split("-topup")[0] not in KEEP_CHECKED or items_in == 0:
        return
    kept = items_out / items_in
    if kept < min_keep_share:
        message = (f"stage {stage} kept {items_out} of {items_in} items ({kept:.0%}, below min_keep_share "
                   f"{min_keep_share:.0%}); top reject reasons: {format_reasons(reasons) or 'unrecorded'}. "
                   f"The rejects are in the run's workspace ({stage} artifacts); fix the cause or lower min_keep_share.")
        logger.error(message)
        raise StageShortfall(stage, message)
