"""Adaptive admission per model: how many calls may be in flight right now (AIMD).

A fixed concurrency is either too timid for a big provider or a 429 storm for a small one. The limit
starts at the model's `max_concurrency`, is cut multiplicatively when the server pushes back (429, or a
latency spike for servers such as vLLM that queue instead of refusing), and creeps back up by one per
window of successes. A `Retry-After` pauses every caller of that model, not only the one that saw it.
A cut is applied once per window: 429s from calls admitted before the last cut do not cut again,
otherwise one burst of rejections would collapse the limit to its floor.

When the run's shards run in several processes, the model's `max_concurrency` must hold for the run,
not per process: a limiter given a `SharedStore` also holds one of the model's run-wide call slots
for each admitted call (taken after the local permit, given back with it). The adaptive limit stays
per process; the shared slots are the hard ceiling over all of them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from magnet_core.llm.shared_state import SharedStore, SlotLease, acquire_slot


@dataclass(frozen=True)
class AdmissionConfig:
    min_concurrency: int = 1
    decrease_factor: float = 0.5
    latency_signal: bool = True
    latency_factor: float = 2.0
    latency_decrease_factor: float = 0.9
    latency_min_samples: int = 20
    latency_short_smoothing: float = 0.1
    latency_long_smoothing: float = 0.01


class Outcome(str, Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"


@dataclass(frozen=True)
class Permit:
    epoch: int
    lease: SlotLease | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LimiterSnapshot:
    limit: float
    in_flight: int
    waiting: int
    decreases: int
    increases: int


class AdaptiveLimiter:
    """Slots are handed directly to the oldest waiter on release, so admission is first-come first-served."""

    def __init__(self, max_concurrency: int, config: AdmissionConfig | None = None, *,
                 shared: SharedStore | None = None, name: str = ""):
        self.config = config or AdmissionConfig()
        self.shared, self.name = shared, name
        self.max_concurrency = max_concurrency
        self.limit = float(max_concurrency)
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._epoch = 0
        self._successes = 0
        self._pause_until = 0.0
        self._wake_handle: asyncio.TimerHandle | None = None
        self._long_s: float | None = None
        self._short_s: float | None = None
        self._samples = 0
        self.decreases = 0
        self.increases = 0

    def snapshot(self) -> LimiterSnapshot:
        return LimiterSnapshot(self.limit, self.in_flight, len(self._waiters), self.decreases, self.increases)

    async def acquire(self) -> Permit:
        permit = await self._acquire_local()
        if self.shared is None:
            return permit
        try:
            lease = await acquire_slot(self.shared, self.name, self.max_concurrency)
        except BaseException:
            self.in_flight -= 1  # cancelled while waiting for a run-wide slot: give the local one back
            self._dispatch()
            raise
        return Permit(permit.epoch, lease)

    async def _acquire_local(self) -> Permit:
        loop = asyncio.get_running_loop()
        if not self._waiters and not self._paused(loop) and self.in_flight < int(self.limit):
            self.in_flight += 1
            return Permit(self._epoch)
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append(future)
        self._schedule_wake(loop)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.in_flight -= 1  # the slot was handed over just as we were cancelled: give it back
                self._dispatch()
            else:
                self._remove_waiter(future)
            raise
        return Permit(self._epoch)

    def pause(self, seconds: float) -> None:
        """Honour a server's Retry-After for every caller of this model."""
        loop = asyncio.get_running_loop()
        self._pause_until = max(self._pause_until, loop.time() + seconds)
        self._schedule_wake(loop)

    def release(self, permit: Permit, outcome: Outcome, latency_s: float | None = None) -> None:
        if permit.lease is not None and self.shared is not None:
            self.shared.release(permit.lease)
        self.in_flight -= 1
        if outcome is Outcome.RATE_LIMITED:
            self._decrease(permit, self.config.decrease_factor)
        elif outcome is Outcome.OK:
            self._on_success(permit, latency_s)
        self._dispatch()

    def _on_success(self, permit: Permit, latency_s: float | None) -> None:
        if latency_s is not None and self.config.latency_signal and self._latency_spike(latency_s):
            self._decrease(permit, self.config.latency_decrease_factor)
            return
        self._successes += 1
        if self._successes >= max(1, int(self.limit)) and self.limit < self.max_concurrency:
            self.limit = min(float(self.max_concurrency), self.limit + 1)
            self._successes = 0
            self.increases += 1

    def _latency_spike(self, latency_s: float) -> bool:
        """Short-term average latency well above the long-term one: the server is queueing our calls.

        Two moving averages rather than a minimum, because LLM latency varies with answer length: a mix of
        short and long answers moves both averages alike, while queueing moves the short one first.
        The first `latency_min_samples` calls are ignored (connection set-up makes them slow), and both
        averages start as running means so that neither is anchored to its first sample.
        """
        self._samples += 1
        warm = self._samples - self.config.latency_min_samples
        if warm <= 0:
            return False
        if self._short_s is None or self._long_s is None:
            self._short_s = self._long_s = latency_s
            return False
        short = max(self.config.latency_short_smoothing, 1 / warm)
        long = max(self.config.latency_long_smoothing, 1 / warm)
        self._short_s += short * (latency_s - self._short_s)
        self._long_s += long * (latency_s - self._long_s)
        return warm >= self.config.latency_min_samples and self._short_s > self.config.latency_factor * max(
            self._long_s, 1e-3)

    def _decrease(self, permit: Permit, factor: float) -> None:
        if permit.epoch != self._epoch:
            return  # admitted before the last cut: that cut already answered this pressure
        self._epoch += 1
        self._successes = 0
        self.limit = max(float(self.config.min_concurrency), self.limit * factor)
        self.decreases += 1
        if self._short_s is not None and self._long_s is not None:
            self._short_s = self._long_s  # judge the new limit on fresh samples

    def _paused(self, loop: asyncio.AbstractEventLoop) -> bool:
        return loop.time() < self._pause_until

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        if self._paused(loop):
            self._schedule_wake(loop)
            return
        while self._waiters and self.in_flight < int(self.limit):
            future = self._waiters.popleft()
            if future.done():
                continue
            self.in_flight += 1
            future.set_result(None)

    def _schedule_wake(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._paused(loop) and self._wake_handle is None:
            def wake() -> None:
                self._wake_handle = None
                self._dispatch()
            self._wake_handle = loop.call_at(self._pause_until, wake)

    def _remove_waiter(self, future: asyncio.Future[None]) -> None:
        try:
            self._waiters.remove(future)
        except ValueError:
            pass
