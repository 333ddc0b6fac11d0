"""Hint leakage beyond keywords: does stored text refer to the private guidance, in any phrasing?

The teacher and the negative sampler see the turn's calls as private guidance; the stored data must read
as if the model worked them out itself. A keyword list misses "(As my private notes suggested.)", so two
detectors look at what the assistant (or the user) wrote:

- a phrase model: a *secrecy/provenance* word ("private", "hidden", "internal", "given", ...) or a
  possessive ("my", "the") within a few words of a *guidance* noun ("notes", "guidance", "hints",
  "instructions", "plan", "script", "cheat sheet", ...), or an attribution verb ("as suggested",
  "as instructed", "I was told") anywhere; markup of the hint block itself;
- an n-gram model of the guidance prompts: any word 4-gram of the teacher's/negative sampler's own
  guidance sentences (e.g. "act as if it", "the calls that solve") in the text.

An optional model judge can be layered on top by the caller; these detectors are cheap and exact enough
that a well-phrased summary ("Here is what I found: the file has 3 lines") passes untouched.
"""

from __future__ import annotations

import re
from functools import lru_cache

from magnet_core.prompts import load_prompt

SECRECY = ("private", "hidden", "secret", "internal", "confidential", "provided", "supplied", "given", "prepared",
           "reference", "my own", "behind-the-scenes")
GUIDANCE = ("notes?", "guidance", "hints?", "instructions?", "cheat ?sheets?", "scripts?", "playbooks?", "crib",
            "answer key", "reference calls?", "guidelines?", "directions?", "tips?", "pointers?", "plan")
ATTRIBUTION = (r"\bas (?:was |i was |it was )?(?:suggested|instructed|directed|indicated|noted|advised|prescribed|planned)\b",
               r"\bi was (?:told|instructed|given|advised|asked) to\b",
               r"\baccording to (?:my|the) (?:" + "|".join(GUIDANCE) + r")\b",
               r"\bfollowing (?:my|the) (?:" + "|".join(GUIDANCE) + r")\b",
               r"</?\s*reference", r"reference[_ ]calls?")
_WORD = re.compile(r"[a-z0-9']+")
GUIDANCE_PROMPTS = ("teacher", "negative_sampler")
NGRAM = 4


def _phrase_patterns() -> list[re.Pattern[str]]:
    nouns = "(?:" + "|".join(GUIDANCE) + ")"
    near = rf"\b(?:{'|'.join(SECRECY)})\b(?:\W+\w+){{0,2}}?\W+{nouns}\b"
    owned = rf"\b(?:my|our)\s+(?:\w+\s+)?{nouns}\b"
    return [re.compile(p, re.IGNORECASE) for p in (near, owned, *ATTRIBUTION)]


PATTERNS = _phrase_patterns()


@lru_cache(maxsize=None)
def guidance_ngrams() -> frozenset[tuple[str, ...]]:
    """Word 4-grams of the guidance instructions the roles see (the parts outside the hint block)."""
    grams: set[tuple[str, ...]] = set()
    for role in GUIDANCE_PROMPTS:
        text = load_prompt(role).text
        start = text.lower().find("private guidance")
        words = _WORD.findall(re.sub(r"\{[a-z_]+\}|<[^>]*>", " ", text[start:] if start >= 0 else "").lower())
        grams |= {tuple(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}
    return frozenset(grams)


def leak_phrase(text: str | None) -> str | None:
    """The first phrase in `text` that refers to private guidance, or None."""
    if not text:
        return None
    for pattern in PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(0)
    words = _WORD.findall(text.lower())
    grams = guidance_ngrams()
    for i in range(len(words) - NGRAM + 1):
        if tuple(words[i:i + NGRAM]) in grams:
            return " ".join(words[i:i + NGRAM])
    return None
