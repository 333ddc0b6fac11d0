"""Premises that schemas cannot show: a small lexicon of everyday procedure, as data.

Log-in, current-directory and create-before-use premises are found from the docs' own words (see
`heuristic_judge`); what remains is common sense about the world that no schema states (you press the
brake to start a car). Each rule matches the source's and the target's "name + description" text within
one tool class. Extend the tuple to teach the offline judge more; the LLM judge needs none of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PremiseRule:
    source: re.Pattern[str]
    target: re.Pattern[str]
    note: str


def _rule(source: str, target: str, note: str) -> PremiseRule:
    return PremiseRule(re.compile(source), re.compile(target), note)


PREMISE_LEXICON: tuple[PremiseRule, ...] = (
    _rule(r"\bpress\w* (?:the )?brake", r"\bstart\w* (?:the )?engine", "an engine is started with the brake pedal pressed"),
    _rule(r"\block\w* (?:the )?door", r"\bstart\w* (?:the )?engine", "doors are locked before the engine is started"),
    _rule(r"\bstart\w* (?:the )?engine", r"\bcruise control", "cruise control needs a running engine"),
    _rule(r"\b(?:verify|check)\w* (?:the )?(?:file|path) exist", r"\b(?:download|open|read)\w* (?:the )?file", "a file is checked to exist before it is read"),
    # version control (git): look, stage, commit, read the history
    _rule(r"\bworking (?:tree|directory)\b.*\bstatus\b|\bstatus\b.*\bworking (?:tree|directory)\b", r"\bstaging area\b",
          "the status shows what there is to stage"),
    _rule(r"\bto the staging area\b", r"\brecords? changes\b|\bcommit (?:the )?(?:staged )?changes\b",
          "changes are staged before they are committed"),
    _rule(r"\brecords? changes\b", r"\bcommit (?:logs?|history)\b", "a new commit then shows in the history"),
)
