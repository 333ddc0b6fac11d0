"""Setup failures end a run with one clear line: no Prefect traceback unless MAGNET_DEBUG is set.

A missing or refused API key, an unknown model or an unreachable server (`PreflightError` before any
stage; `LLMSetupError` when a key is revoked mid-stage, raised by a shard and wrapped by `run_shards`) is
the user's configuration, not a bug: the message names the model, its roles and the problem, and a stack of
Prefect engine frames only hides it. The pipeline returns a Failed state with that message instead of
raising, and `QuietSetupTracebacks` drops the traceback from the one ERROR record Prefect's task engine
still writes for the failing shard. Any other exception keeps its traceback.
"""

from __future__ import annotations

import logging
import os

from magnet_core.llm.preflight import PreflightError
from magnet_core.llm.types import LLMSetupError

DEBUG_ENV = "MAGNET_DEBUG"  # set (e.g. by `magnet run --debug`): setup failures keep their tracebacks
SETUP_ERRORS: tuple[type[BaseException], ...] = (PreflightError, LLMSetupError)
PREFECT_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def setup_failure(error: BaseException | None) -> BaseException | None:
    """The setup error `error` is or wraps (through `raise ... from`), None when it is something else."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, SETUP_ERRORS):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def quiet_failure_message(error: BaseException) -> str | None:
    """The one-line message for a setup failure the run should end with quietly; None: let it raise
    (another kind of error, or MAGNET_DEBUG set, which keeps Prefect's traceback)."""
    setup = setup_failure(error)
    if setup is None or debug_enabled():
        return None
    prefix = "" if isinstance(setup, PreflightError) else "a model failed its setup mid-run, the run stopped: "
    return prefix + str(setup)


class QuietSetupTracebacks(logging.Filter):
    """Keeps Prefect's "Task run failed" / "Encountered exception" line for a setup error, without the stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and setup_failure(record.exc_info[1]) is not None and not debug_enabled():
            record.exc_info = None
            record.exc_text = None
        return True


_FILTER = QuietSetupTracebacks()


def quiet_setup_tracebacks() -> None:
    """Install the filter on Prefect's run loggers (idempotent: one filter object, added once)."""
    for name in PREFECT_RUN_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
