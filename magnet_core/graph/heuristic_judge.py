"""The offline dependency judge (the default when no teacher model is configured).

Value dependencies: an output field of the source names, or is described as, the thing a parameter of
the target takes (`user_id` -> `receiver_id` "User ID of the user..."; a list of tweets -> `tweet_id`;
`rma_id` "Return authorisation ID" -> `return_authorization`), names the same kind of thing under another
name (`seller_id` -> `merchant_id`), is a place a place parameter takes (a shop's location -> a navigation
destination, an airport -> where a flight leaves from), or is a quantity in the unit a parameter is
measured in (`gallon` -> `fuelAmount` "in gallons").
Premise dependencies: the source logs in and the target acts for the logged-in user; the source changes
the current directory and the target works in it; the source creates a file/ticket the target names;
the target undoes what the source did; or a rule of the premise lexicon applies.
"""

from __future__ import annotations

from magnet_core.domain.functions import FunctionSpec
from magnet_core.graph.edges import DependencyEdge, EdgeEvidence, make_edge
from magnet_core.graph.features import BARE_RESULTS, InputParam, OutputField, SpecFeatures, spec_features
from magnet_core.graph.premise_rules import PREMISE_LEXICON
from magnet_core.graph.tokens import GENERIC

HEURISTIC_JUDGE_NAME = "heuristic-offline"
_UNDO_VERBS = {"delete", "cancel", "remove", "undo", "close", "revoke"}
_DO_VERBS = {"send", "post", "create", "place", "book", "add", "open", "register"}


class HeuristicJudge:
    """Sync judge; `judge_features` is the fast path `build_graph` uses on precomputed features."""

    name = HEURISTIC_JUDGE_NAME
    offline = True

    def __init__(self, min_score: float = 0.5):
        self.min_score = min_score

    def judge(self, target: FunctionSpec, candidates: list[FunctionSpec]) -> list[DependencyEdge]:
        """Edges `target -> candidate` for every candidate that depends on `target` (needs its output or
        its effect first); the judge interface every judge shares."""
        return self.judge_features(spec_features(target), [spec_features(c) for c in candidates])

    def judge_features(self, source: SpecFeatures, candidates: list[SpecFeatures]) -> list[DependencyEdge]:
        return [
            make_edge(source.qualified, target, [EdgeEvidence(**item) for item in evidence], score, self.name)
            for target, _, evidence, score in self.judge_raw(source, candidates)
        ]

    def judge_raw(self, source: SpecFeatures, candidates: list[SpecFeatures]) -> list[tuple[str, str, list[dict], float]]:
        """(target, kind, evidence dicts, score) per dependent candidate: the allocation-light path for
        pools of 100,000 functions (the dicts have exactly `EdgeEvidence`'s fields)."""
        found = []
        for candidate in candidates:
            if candidate.qualified == source.qualified:
                continue
            scored = self.pair_evidence(source, candidate)
            if scored and scored[0] >= self.min_score:
                score, evidence = scored
                kind = "value" if any(item["kind"] == "value" for item in evidence) else "premise"
                found.append((candidate.qualified, kind, evidence, round(score, 4)))
        return found

    def pair_evidence(self, source: SpecFeatures, target: SpecFeatures) -> tuple[float, list[dict]] | None:
        found: list[tuple[float, dict]] = []
        same_group = source.group is not None and source.group == target.group
        # Logging in to another service takes the user's own identity, never another tool's output.
        may_feed = (same_group or not target.is_auth) and (
            not source.out_tokens.isdisjoint(target.in_tokens) or (same_group and source.loose_outputs)
        )
        for output in source.outputs if may_feed else ():
            for param in _params_to_check(output, target):
                if param.credential and target.is_auth:  # typed by the user, never fed by a call
                    continue
                match = _value_match(output, param, same_group)
                if match:
                    found.append(match)
        if same_group:
            found.extend(_premises(source, target))
        if not found:
            return None
        best = max(score for score, _ in found) + 0.05 * (len(found) - 1)
        unique: dict[tuple, dict] = {}
        for _, evidence in sorted(found, key=lambda item: -item[0]):
            unique.setdefault((evidence["kind"], evidence["output_field"], evidence["parameter"], evidence["note"]), evidence)
        return min(best, 1.0), list(unique.values())


def _params_to_check(output: OutputField, target: SpecFeatures) -> list[InputParam]:
    if output.container or output.textual or not output.core or output.numeric or output.place:
        return list(target.params)
    positions: set[int] = set()
    for token in output.core | (output.described - GENERIC):
        positions.update(target.param_index.get(token, ()))
    return [target.params[i] for i in sorted(positions)]


def _value_match(output: OutputField, param: InputParam, same_group: bool) -> tuple[float, dict] | None:
    if param.fresh or (output.string and param.numeric):  # text never fills a number
        return None
    shape_differs = output.container != param.container

    def evidence(score: float, partial: bool, note: str) -> tuple[float, dict]:
        return score, {"kind": "value", "output_field": output.field, "parameter": param.param, "partial": partial, "note": note}

    if output.core and output.key <= param.name:
        return evidence(1.0, shape_differs, "field name matches the parameter name")
    if output.matchable and output.matchable <= param.subject:
        return evidence(0.8, True, "parameter is described as this field")
    if len(output.core) > 1 and output.head and (output.head in param.name or (not output.container and output.head in param.subject)):
        return evidence(0.6, True, f"parameter takes a {output.head}")
    ids_only = "id" in output.elements and "id" not in param.name  # "list of order IDs" feeds only an id
    if output.container and not ids_only and output.elements & (param.subject - GENERIC):
        return evidence(0.6, True, "parameter takes an item of this collection")
    described = output.described - GENERIC
    if len(described) > 1 and output.described <= param.subject:  # one word ("distance") says too little
        return evidence(0.7, True, "parameter is described as this field is")
    if output.place and (param.place == "place" or param.place == output.place) and not param.listed and not output.numeric:
        return evidence(0.55, True, "a place taken as a place")
    if output.numeric and param.numeric and output.key == {output.head} and output.head in param.text - param.name:
        return evidence(0.55, False, f"parameter is measured in {output.head}s")
    if same_group and output.textual and param.sink:
        return evidence(0.5, False, "text output written as free content")
    if same_group and output.numeric and output.key <= BARE_RESULTS and param.generic:
        return evidence(0.5, False, "a numeric result feeds a numeric argument")
    return None


def _premises(source: SpecFeatures, target: SpecFeatures) -> list[tuple[float, dict]]:
    found = []

    def premise(score: float, note: str) -> None:
        found.append((score, {"kind": "premise", "output_field": None, "parameter": None, "partial": False, "note": note}))

    if source.is_auth and target.needs_auth:
        premise(0.8, "logs in / authenticates, which the target needs")
    noun = source.setter_noun
    if noun and target.setter_noun != noun and noun in target.mentions:
        premise(0.7, f"sets the current {noun} the target works in")
    made = source.created_noun
    if made and target.created_noun != made and any(made in p.subject and not p.fresh for p in target.params):
        premise(0.6, f"creates the {made} the target names")
    if _undoes(source, target):
        premise(0.6, "the target undoes what the source did")
    for index in sorted((source.lexicon_source & target.lexicon_target) - source.lexicon_target):
        premise(0.7, PREMISE_LEXICON[index].note)
    return found


def _undoes(source: SpecFeatures, target: SpecFeatures) -> bool:
    """follow_user -> unfollow_user; send_message -> delete_message; add_to_watchlist -> remove_stock_from_watchlist."""
    if target.verb == "un" + source.verb and target.name_rest == source.name_rest:
        return True
    return source.verb in _DO_VERBS and target.verb in _UNDO_VERBS and not source.name_rest.isdisjoint(target.name_rest)
