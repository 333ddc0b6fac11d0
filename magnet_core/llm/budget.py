"""The run's spending cap: once reached, no new call starts; calls already in flight may finish.

Checked before any HTTP so that an item either completes or never starts: the unfinished items stay
untouched and a later run with a bigger cap (and the warm cache) resumes them. Cache hits are free and
are allowed past the cap, which is what makes that resume cheap.

The spend lives in this object, or - when the run's shards run in several processes - in a
`SharedStore` every process adds to and reads from, so the cap holds for the run, not per worker. The
check reads the run's total right before a call starts; the cost is added when the answer arrives. So
the total can pass the cap by at most the cost of the calls in flight at that moment, in any process.
"""

from __future__ import annotations

from magnet_core.llm.shared_state import SharedStore
from magnet_core.llm.types import BudgetExceededError


class Budget:
    def __init__(self, max_cost_usd: float | None, store: SharedStore | None = None):
        if max_cost_usd is not None and max_cost_usd < 0:
            raise ValueError("max_cost_usd must be >= 0")
        self.max_cost_usd = max_cost_usd
        self.store = store
        self._spent_here = 0.0
        self.refused = 0

    @property
    def spent_usd(self) -> float:
        """The run's spend: every process's when the budget has a shared store."""
        return self.store.spent() if self.store is not None else self._spent_here

    @property
    def exhausted(self) -> bool:
        return self.max_cost_usd is not None and self.spent_usd >= self.max_cost_usd

    def check(self) -> None:
        if self.max_cost_usd is None:
            return
        spent = self.spent_usd
        if spent >= self.max_cost_usd:
            self.refused += 1
            raise BudgetExceededError(
                f"budget cap reached: spent ${spent:.6f} of max_cost_usd=${self.max_cost_usd:.6f}; "
                "no new calls start, unfinished items can be resumed with a larger cap")

    def add(self, usd: float) -> None:
        self._spent_here += usd
        if self.store is not None and usd:
            self.store.add_spend(usd)
