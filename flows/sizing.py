"""Size-driven rounds: the stage sizes each round asks for, and the report of what the run got.

The numbers come from `magnet_core.dataset.sizing` (pure); this module only holds the state of one run:
what was asked so far, per kind and in paths, so a top-up round continues where the last one stopped
(fresh paths via `skip_plans`, fresh samples via `start`) and the same config gives the same rounds.
"""

from __future__ import annotations

from typing import Any

from flows.configs import PipelineConfig
from magnet_core.dataset import sizing
from magnet_core.dataset.config import AssembleConfig
from magnet_core.distill.single_turn import SingleTurnConfig
from magnet_core.graph.stage import PlanStageConfig


SINGLE_TURN_CHUNK = 256  # samples per single-turn task: a sample depends only on (seed, kind, index)


class SizingState:
    def __init__(self, config: PipelineConfig, single_turn: SingleTurnConfig):
        """`single_turn`: the stage config with its model slots filled (what the tasks run)."""
        self.config = config
        self.single_turn = single_turn
        self.target = config.target
        self.margin = self.target.margin if self.target else 0.15
        self.rounds_left = self.target.top_up_rounds if self.target else 1
        self.asked = sizing.Request()
        self.rounds: list[dict[str, Any]] = []
        self.notes: dict[str, str] = {}
        self.wanted: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self.available: tuple[dict[str, int], dict[str, int]] = ({}, {})
        self.measures: list[sizing.Measure] = []
        self.plans_used = 0
        self.first = self._first_request()

    def _first_request(self) -> sizing.Request | None:
        if self.target is None:
            return None  # implied by the plans: known once the plans stage has run
        sft, pref = self.target.sft_category_counts(), self.target.preference_category_counts()
        self.wanted = (sft, pref)
        return sizing.request_for(sft, pref, sizing.PRIOR_YIELDS, self.margin)

    def plans_config(self) -> PlanStageConfig:
        if self.first is None:
            return self.config.plans
        return self.config.plans.model_copy(update={"max_plans": max(1, self.first.paths), "skip_plans": 0})

    def note_paths(self, plans_summary: dict[str, Any]) -> None:
        """The graph cannot give the paths asked: say so (the multi-turn shortfall follows from it)."""
        if plans_summary.get("paths_short"):
            self.notes["multi_turn paths"] = (f"the graph gives {plans_summary.get('distinct_paths')} distinct paths "
                                              f"in {plans_summary.get('waves')} walks per function; "
                                              f"{plans_summary['paths_short']} of {plans_summary.get('paths_asked')} asked are missing")

    def round_one(self, paths_made: int) -> list[SingleTurnConfig]:
        """Single-turn shard configs of round 1 (`paths_made`: distinct paths the plans stage used)."""
        request = self.first
        if request is None:  # no target: enough of the rest for the ratio mixture to keep every multi-turn row
            y = sizing.PRIOR_YIELDS
            base = self.single_turn
            sft = sizing.implied_counts(self.config.assemble.mixture, paths_made * y.multi_turn_per_path)
            pref_mix = self.config.assemble.preference_mixture
            pref = sizing.implied_counts(pref_mix, paths_made * y.multi_turn_pairs_per_path) if pref_mix else {}
            wanted = sizing.request_for(sft, pref, y, self.margin)
            pairs = {k: wanted.pairs[k] if getattr(base, k) > 0 else 0 for k in sizing.KINDS}
            samples = {k: max(getattr(base, k), wanted.samples[k], pairs[k]) if getattr(base, k) > 0 else 0 for k in sizing.KINDS}
            request = sizing.Request(paths=paths_made, samples=samples, pairs=pairs)
        else:
            request = request.model_copy(update={"paths": paths_made})
        self.plans_used = self.plans_config().max_plans or paths_made
        return self._record(request, "prior yields" if self.target else "implied by plans.max_plans")

    def single_turn_early(self) -> list[SingleTurnConfig] | None:
        """Round one's single-turn shards when they are known before the plans - a target: they follow from
        the prior yields, not from the paths the plans make - so they can run while the graph is built.
        `round_one` then returns the same shards."""
        return None if self.first is None else self._shards(self.first)

    def _shards(self, request: sizing.Request) -> list[SingleTurnConfig]:
        shards = []
        for kind in sizing.KINDS:
            first, count = self.asked.samples.get(kind, 0), request.samples.get(kind, 0)
            pairs_end = first + request.pairs.get(kind, 0)  # pairs come from the round's first samples
            for start in range(first, first + count, SINGLE_TURN_CHUNK):
                size = min(SINGLE_TURN_CHUNK, first + count - start)
                shards.append(self.single_turn.model_copy(update={
                    **{k: (size if k == kind else 0) for k in sizing.KINDS}, "start": start,
                    "pairs": {kind: max(0, min(size, pairs_end - start))}}))
        return shards

    def _record(self, request: sizing.Request, basis: str) -> list[SingleTurnConfig]:
        shards = self._shards(request)
        self.rounds.append({"round": len(self.rounds) + 1, "basis": basis, **request.model_dump()})
        self.asked = sizing.merged(self.asked, request)
        return shards

    def top_up(self, sft_available: dict[str, int], pref_available: dict[str, int]) -> tuple[PlanStageConfig | None, list[SingleTurnConfig]] | None:
        """The next round for categories still short, or None when nothing is short or no round is left."""
        self.available = (sft_available, pref_available)
        if self.target is None:
            mt = sft_available.get("multi_turn", 0)
            pref_mix = self.config.assemble.preference_mixture
            self.wanted = (sizing.implied_counts(self.config.assemble.mixture, mt),
                           sizing.implied_counts(pref_mix, pref_available.get("multi_turn", 0)) if pref_mix else {})
            for kind in sizing.KINDS:  # kinds the user switched off stay off
                if getattr(self.single_turn, kind) == 0:
                    self.wanted[0].pop(kind, None)
                    self.wanted[1].pop(kind, None)
        if self.rounds_left <= 0:
            return None
        now = sizing.Measure(sft=sft_available, pref=pref_available, asked=self.asked)
        earlier = self.measures[-1] if self.measures else None
        self.measures.append(now)
        request, notes = sizing.top_up(*self.wanted, now, self.margin, earlier)
        self.notes.update(notes)
        if request.empty:
            return None
        self.rounds_left -= 1
        plans = None
        if request.paths:
            plans = self.config.plans.model_copy(update={"max_plans": request.paths, "skip_plans": self.plans_used})
            self.plans_used += request.paths
        return plans, self._record(request, "yields measured on the rounds so far")

    def assemble_config(self) -> AssembleConfig:
        assemble = self.config.assemble
        if self.target is None:
            return assemble
        sft, pref = self.wanted
        update: dict[str, Any] = {}
        if self.target.sft_rows is not None or self.target.sft_counts is not None:
            update["mixture"] = sizing.count_targets(sft)
        if self.target.preference_pairs is not None or self.target.preference_counts is not None:
            update["preference_mixture"] = sizing.count_targets(pref)
        return assemble.model_copy(update=update)

    def report(self) -> dict[str, Any]:
        sft, pref = self.wanted
        return {"mode": "target" if self.target else "implied by plans.max_plans", "rounds": self.rounds,
                "wanted": {"sft": sft, "preference": pref},
                "available_at_last_measure": {"sft": self.available[0], "preference": self.available[1]},
                "notes": self.notes}
