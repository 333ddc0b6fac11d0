"""Circuit breaker per model: stop sending calls to a model that keeps failing.

Without it, a dead endpoint turns every pending item into `max_retries` slow failures. After
`failure_threshold` consecutive failed attempts (5xx, timeouts, connection errors; a 429 is back-pressure,
not a failure, and is left to admission) the circuit opens and calls fail fast with `CircuitOpenError`
for `cooldown_s`. Then one probe call is let through (half-open); its success closes the circuit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class BreakerConfig:
    failure_threshold: int = 20
    cooldown_s: float = 30.0


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(self, config: BreakerConfig | None = None):
        self.config = config or BreakerConfig()
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_at = 0.0
        self.times_opened = 0
        self._probe_in_flight = False

    def allow(self) -> bool:
        """True if an attempt may start now; in half-open state only one probe at a time."""
        if self.state is BreakerState.OPEN:
            if time.monotonic() - self.opened_at < self.config.cooldown_s:
                return False
            self.state = BreakerState.HALF_OPEN
        if self.state is BreakerState.HALF_OPEN:
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
        return True

    def retry_in_s(self) -> float:
        return max(0.0, self.config.cooldown_s - (time.monotonic() - self.opened_at))

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self._probe_in_flight = False
        self.state = BreakerState.CLOSED

    def record_neutral(self) -> None:
        """An attempt that says nothing about the model's health (429, permanent error): free the probe."""
        self._probe_in_flight = False

    def record_failure(self) -> None:
        self._probe_in_flight = False
        self.consecutive_failures += 1
        if self.state is BreakerState.HALF_OPEN or self.consecutive_failures >= self.config.failure_threshold:
            if self.state is not BreakerState.OPEN:
                self.times_opened += 1
            self.state = BreakerState.OPEN
            self.opened_at = time.monotonic()
