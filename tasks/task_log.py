"""What a task says in its Prefect log: its shard's counts and reject reasons, and the library's own log lines.

`magnet_core` logs with the standard `logging` module and never imports Prefect; `core_logs_to_run()`
forwards those records (training loss per logging step, "N of M examples have no assistant token",
evaluation scores) into the current task run's log at their own level, so they show in the UI instead
of only on the worker's stdout.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

CORE_LOGGER = "magnet_core"


def reason_counts(rejects: Iterable[Any]) -> dict[str, int]:
    """Rejects by reason, most frequent first (the order the summary and the failure message show)."""
    return dict(Counter(reject.reason for reject in rejects).most_common())


def format_reasons(reasons: dict[str, int], top: int = 3) -> str:
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    shown = ", ".join(f"{reason} {count}" for reason, count in ordered[:top])
    return shown + (f", +{len(ordered) - top} more" if len(ordered) > top else "")


def log_shard(stage: str, items_in: int, items_out: int, reasons: dict[str, int]) -> None:
    """One line per shard: INFO when nothing was rejected, WARNING naming the reasons otherwise."""
    from prefect.logging import get_run_logger

    logger = get_run_logger()
    rejected = sum(reasons.values())
    if rejected:
        logger.warning("%s: %d in, %d out, %d rejected (%s)", stage, items_in, items_out, rejected,
                       format_reasons(reasons))
    else:
        logger.info("%s: %d in, %d out, no rejects", stage, items_in, items_out)


def log_dataset(version_id: str, counts: dict[str, int], rejects: dict[str, int], offline: bool) -> None:
    """The assembled version in one line; a WARNING when it holds no SFT rows (nothing to train on)."""
    from prefect.logging import get_run_logger

    logger = get_run_logger()
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    label = " [offline]" if offline else ""
    logger.info("dataset %s%s: %s; rejects by reason: %s", version_id, label, shown, format_reasons(rejects) or "none")
    if not counts.get("sft"):
        logger.warning("dataset %s has no SFT rows: every item was rejected or filtered", version_id)


def log_pool_issues(name: str, issues: tuple[str, ...]) -> None:
    if issues:
        from prefect.logging import get_run_logger

        get_run_logger().warning("pool %s: %d entr%s skipped: %s", name, len(issues), "y" if len(issues) == 1 else "ies",
                                 "; ".join(issues[:5]) + (" ..." if len(issues) > 5 else ""))


class _RunLogForwarder(logging.Handler):
    def __init__(self, run_logger: logging.LoggerAdapter) -> None:
        super().__init__(level=logging.INFO)
        self.run_logger = run_logger
        self.thread = threading.get_ident()  # records of other tasks' threads belong to their own runs

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        try:
            self.run_logger.log(record.levelno, "%s", record.getMessage())
        except Exception:  # noqa: BLE001 - a log line must never fail the task
            self.handleError(record)


@contextmanager
def core_logs_to_run() -> Iterator[None]:
    """Forward `magnet_core` INFO+ records to the task run's Prefect log while the block runs."""
    from prefect.logging import get_run_logger

    core = logging.getLogger(CORE_LOGGER)
    handler = _RunLogForwarder(get_run_logger())
    previous = core.level
    core.addHandler(handler)
    if core.getEffectiveLevel() > logging.INFO:
        core.setLevel(logging.INFO)
    try:
        yield
    finally:
        core.removeHandler(handler)
        core.setLevel(previous)
