"""The run's spending cap: once reached, no new call starts; calls already in flight may finish.

Checked before any HTTP so that an item either completes or never starts: the unfinished items stay
untouched and a later run with a bigger cap (and the warm cache) resumes them. Cache hits are free and
are allowed past the cap, which is what makes that resume cheap.
"""

from __future__ import annotations

from magnet_core.llm.types import BudgetExceededError


class Budget:
    def __init__(self, max_cost_usd: float | None):
        if max_cost_usd is not None and max_cost_usd < 0:
            raise ValueError("max_cost_usd must be >= 0")
        self.max_cost_usd = max_cost_usd
        self.spent_usd = 0.0
        self.refused = 0

    @property
    def exhausted(self) -> bool:
        return self.max_cost_usd is not None and self.spent_usd >= self.max_cost_usd

    def check(self) -> None:
        if self.exhausted:
            self.refused += 1
            raise BudgetExceededError(
                f"budget cap reached: spent ${self.spent_usd:.6f} of max_cost_usd=${self.max_cost_usd:.6f}; "
                "no new calls start, unfinished items can be resumed with a larger cap")

    def add(self, usd: float) -> None:
        self.spent_usd += usd
