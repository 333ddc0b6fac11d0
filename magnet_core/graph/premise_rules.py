"""Premises that schemas cannot show: a small lexicon of everyday procedure, as data.

Log-in, current-directory and create-before-use premises are found from the docs' own words (see
`heuristic_judge`); what remains is common sense about the world that no schema states (you press the
brake to start a car). Each rule matches the source's and the target's "name + description" text within
one tool class. Extend the tuple to teach the offline judge more; the LLM judge needs none of it.

A `required` rule is a premise the target cannot run without (the engine will not start with the doors
unlocked), not just a usual order: plans get the missing source inserted before the target
(`graph/operations.add_premises`), whatever judge built the graph, and `achieves` names the source's
argument values that establish the premise, read from the source's own docs ("pedalPosition: between 0
(not pressed) and 1 (fully pressed)"), which the offline value drafter then tries first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PremiseRule:
    source: re.Pattern[str]
    target: re.Pattern[str]
    note: str
    required: bool = False
    achieves: Mapping[str, Any] = field(default_factory=dict)  # source parameter -> value that sets the premise up


def _rule(source: str, target: str, note: str, required: bool = False, **achieves: Any) -> PremiseRule:
    return PremiseRule(re.compile(source), re.compile(target), note, required, achieves)


PREMISE_LEXICON: tuple[PremiseRule, ...] = (
    _rule(r"\bpress\w* (?:the )?brake", r"\bstart\w* (?:the )?engine", "an engine is started with the brake pedal pressed",
          True, pedalPosition=1.0),
    _rule(r"\block\w* (?:the )?door", r"\bstart\w* (?:the )?engine", "doors are locked before the engine is started",
          True, unlock=False, door=["driver", "passenger", "rear_left", "rear_right"]),
    _rule(r"\bstart\w* (?:the )?engine", r"\bcruise control", "cruise control needs a running engine",
          True, ignitionMode="START"),
    _rule(r"\b(?:verify|check)\w* (?:the )?(?:file|path) exist", r"\b(?:download|open|read)\w* (?:the )?file", "a file is checked to exist before it is read"),
    # version control (git): look, stage, commit, read the history
    _rule(r"\bworking (?:tree|directory)\b.*\bstatus\b|\bstatus\b.*\bworking (?:tree|directory)\b", r"\bstaging area\b",
          "the status shows what there is to stage"),
    _rule(r"\bto the staging area\b", r"\brecords? changes\b|\bcommit (?:the )?(?:staged )?changes\b",
          "changes are staged before they are committed", True),
    _rule(r"\brecords? changes\b", r"\bcommit (?:logs?|history)\b", "a new commit then shows in the history"),
)


def rule_matches(phrase: str) -> tuple[frozenset[int], frozenset[int]]:
    """(rules whose premise `phrase` can set up, rules whose premise it needs), by lexicon index."""
    return (frozenset(i for i, rule in enumerate(PREMISE_LEXICON) if rule.source.search(phrase)),
            frozenset(i for i, rule in enumerate(PREMISE_LEXICON) if rule.target.search(phrase)))


def required_premises(functions: Iterable[tuple[str, str, frozenset[int], frozenset[int]]]) -> dict[str, list[str]]:
    """name -> the functions of its own class that set up a `required` premise of it, sorted.

    `functions`: (name, class, rules it can set up, rules it needs), as `rule_matches` gives them.
    """
    items = list(functions)
    found: dict[str, list[str]] = {}
    for name, group, _, needs in items:
        wanted = {i for i in needs if PREMISE_LEXICON[i].required}
        sources = sorted(other for other, other_group, sets_up, _ in items
                         if other != name and other_group == group and wanted & sets_up)
        if sources:
            found[name] = sources
    return found


def achieving_arguments(source_rules: frozenset[int], target_rules: frozenset[int]) -> dict[str, Any]:
    """Argument values by which a source sets up the required premises a later target needs."""
    values: dict[str, Any] = {}
    for index in sorted(source_rules & target_rules):
        if PREMISE_LEXICON[index].required:
            values.update(PREMISE_LEXICON[index].achieves)
    return values
