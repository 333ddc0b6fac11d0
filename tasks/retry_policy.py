"""Which task failures Prefect may retry: infrastructure yes, deterministic errors never.

A bad config, a schema error, a permanent LLM error or a spent budget fails the same way every time;
retrying it only burns time (and, for the budget, would break the cap). A dropped connection, a timeout,
a transient LLM failure that outlived the client's own retries, or a full disk may pass on a later try.
Retries back off exponentially with jitter so that many shards failing together don't retry in step.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from magnet_core.llm.types import BudgetExceededError, CircuitOpenError, LLMPermanentError, LLMTransientExhausted
from prefect.tasks import exponential_backoff

class TransientItemFailures(RuntimeError):
    """Items of a shard were rejected for transient LLM failures (the roles turn those into rejects).

    Caching such a shard would keep an infrastructure blip as a permanent reject, so the shard task
    raises this instead and Prefect retries the whole shard with backoff (cached LLM answers make the
    retry cheap); if the retries run out, the run fails and a re-run resumes.
    """


TRANSIENT_REJECT_PREFIXES = ("LLMTransientExhausted", "CircuitOpenError")


def raise_if_transient_rejects(rejects: list, stage: str) -> None:
    transient = [r for r in rejects if r.reason == "llm_error" and r.detail.startswith(TRANSIENT_REJECT_PREFIXES)]
    if transient:
        raise TransientItemFailures(f"{stage}: {len(transient)} item(s) hit transient LLM failures, e.g. "
                                    f"{transient[0].item_id}: {transient[0].detail[:300]}")


DETERMINISTIC_ERRORS: tuple[type[BaseException], ...] = (
    ValidationError,
    LLMPermanentError,
    BudgetExceededError,
    ValueError,
    TypeError,
    KeyError,
    NotImplementedError,
    FileNotFoundError,
    PermissionError,
)
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    TransientItemFailures,
    LLMTransientExhausted,
    CircuitOpenError,
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    OSError,
)

RETRY_OPTIONS: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
}


def is_retryable(error: BaseException | None) -> bool:
    """Retry only errors known to be infrastructure; anything unknown is treated as deterministic."""
    if error is None:
        return False
    if isinstance(error, DETERMINISTIC_ERRORS):
        return False
    return isinstance(error, INFRASTRUCTURE_ERRORS)


def failure_exception(state: Any) -> BaseException | None:
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    try:
        result = state.result(raise_on_failure=False)
    except Exception as error:  # reading a failed state may itself raise the stored exception
        return error
    return result if isinstance(result, BaseException) else None


def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's `retry_condition_fn`."""
    return is_retryable(failure_exception(state))
