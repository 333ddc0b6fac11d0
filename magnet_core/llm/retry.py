"""Which failures are worth retrying, and how long to wait before the next attempt.

Only transient failures (429, 5xx, timeouts, dropped connections, unreadable bodies) are retried:
retrying an auth or bad-request error burns time and money and hides a configuration mistake, so those
fail at once. Backoff is exponential with full jitter so that many workers hit by the same 429 storm do
not come back in lock-step; a server's `Retry-After` is a floor on the wait.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from enum import Enum
from typing import Any


class FailureKind(str, Enum):
    RATE_LIMIT = "rate_limit"      # 429: the server is asking us to slow down
    TRANSIENT = "transient"        # 5xx, timeout, connection, malformed body
    PERMANENT = "permanent"        # auth, bad request, not found: retrying cannot help


@dataclass(frozen=True)
class RetryPolicy:
    """Tests shrink the delays to milliseconds; production keeps seconds."""

    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    multiplier: float = 2.0
    jitter: bool = True
    max_retry_after_s: float = 300.0

    def delay(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Wait before retry number `attempt` (0-based); never shorter than the server's Retry-After."""
        ceiling = min(self.max_delay_s, self.base_delay_s * self.multiplier ** attempt)
        wait = rng.uniform(ceiling / 2, ceiling) if self.jitter else ceiling
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.max_retry_after_s))
        return wait


_PERMANENT_STATUS = {400, 401, 402, 403, 404, 405, 413, 422}
_PERMANENT_NAMES = {"AuthenticationError", "PermissionDeniedError", "BadRequestError", "NotFoundError",
                    "UnprocessableEntityError", "ContextWindowExceededError", "ContentPolicyViolationError",
                    "UnsupportedParamsError", "InvalidRequestError", "LiteLLMUnknownProvider", "PaymentRequiredError",
                    "RejectedRequestError"}
_TRANSIENT_NAMES = {"Timeout", "APITimeoutError", "APIConnectionError", "ServiceUnavailableError",
                    "InternalServerError", "BadGatewayError", "APIResponseValidationError", "JSONDecodeError"}


def classify(error: BaseException) -> FailureKind:
    """Map a litellm/openai exception to a failure kind, by class first and HTTP status second."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if "RateLimitError" in names:
        return FailureKind.RATE_LIMIT
    if names & _PERMANENT_NAMES:
        return FailureKind.PERMANENT
    if names & _TRANSIENT_NAMES or isinstance(error, (asyncio.TimeoutError, TimeoutError, ConnectionError)):
        return FailureKind.TRANSIENT
    status = status_code(error)
    if status == 429:
        return FailureKind.RATE_LIMIT
    if status in _PERMANENT_STATUS:
        return FailureKind.PERMANENT
    if status is None or status >= 500 or status == 408:
        # An APIError without a status is usually an unreadable body (e.g. malformed JSON): transient.
        return FailureKind.TRANSIENT
    return FailureKind.PERMANENT


_SETUP_STATUS = {401, 402, 403, 404}
_SETUP_NAMES = {"AuthenticationError", "PermissionDeniedError", "NotFoundError", "LiteLLMUnknownProvider",
                "PaymentRequiredError"}


def is_setup_failure(error: BaseException) -> bool:
    """A permanent failure of the model itself (key, permission, unknown model/provider, payment), not of
    one request: every call would fail alike, so the run must stop instead of rejecting items."""
    names = {cls.__name__ for cls in type(error).__mro__}
    return (bool(names & _SETUP_NAMES) or status_code(error) in _SETUP_STATUS
            or "LLM Provider NOT provided" in str(error))  # litellm's BadRequestError for an unknown provider


def status_code(error: BaseException) -> int | None:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def retry_after_seconds(error: BaseException) -> float | None:
    """Read `Retry-After` (seconds form) from whichever response object litellm attached."""
    for headers in _candidate_headers(error):
        value = _header(headers, "retry-after")
        if value is None:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            return None  # HTTP-date form: treat as absent, the backoff still applies
    return None


def _candidate_headers(error: BaseException) -> list[Any]:
    found = []
    response = getattr(error, "response", None)
    if response is not None and getattr(response, "headers", None) is not None:
        found.append(response.headers)
    for attr in ("litellm_response_headers", "headers"):
        headers = getattr(error, attr, None)
        if headers is not None:
            found.append(headers)
    return found


def _header(headers: Any, name: str) -> str | None:
    try:
        value = headers.get(name)
        if value is None and isinstance(headers, dict):
            value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    except Exception:  # noqa: BLE001 - headers objects vary across litellm providers
        return None
    return None if value is None else str(value)
