"""Normalised tokens of names and descriptions: the shared vocabulary of candidate ranking and judging.

Outputs and inputs of different functions rarely share exact names (`user_id` vs `receiver_id` described
as "User ID of the user"), so both sides are reduced to lower-case, singular word tokens with the filler
words removed; matching is then set containment over these tokens.
"""

from __future__ import annotations

import re
from functools import lru_cache

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z0-9]+")

STOPWORDS = frozenset(
    """a an the of to for in on at by from with and or is are be been as it its this that these those
    if else not no none true false default defaults given specified specific which what who whose when
    where will can could should would may might must only any all each every some one into than then
    there their them they you your user's also such e g eg ie etc use used using based""".split()
)

# Words too common in schemas to identify a value on their own ("id" of what? "status" of what?).
GENERIC = frozenset(
"""id ids name names status result results value values message messages list lists type types
    count data info information detail details item items output response number numbers
    string flag option mode key keys history stat stats new current total object dict dictionary array
    level code text description title amount working""".split()
)

# Leading verbs of function names: what a function does, not what it is about.
VERBS = frozenset(
    """get set list add remove delete create update edit post send make find search fetch retrieve
    view show display check compute calculate estimate cancel close resolve place book register
    purchase buy sell fill start stop press release lock unlock activate deactivate adjust change
    authenticate login logout log contact notify filter convert read write open move copy sort count
    mention follow unfollow comment retweet fund withdraw verify""".split()
)


# Words that name the same kind of thing across APIs (a seller is a merchant): mapped to one token so that
# `seller_id` can feed `merchant_id`. General English only, never a pool's own vocabulary.
CANONICAL = {"merchant": "seller", "vendor": "seller", "reservation": "booking", "client": "customer",
             "identifier": "id", "authorisation": "authorization"}

# Values that are places: an address, a shop's location, an airport code can all be where one goes. A
# parameter that wants an address takes only an address; one that wants a place takes any place.
ADDRESS_WORDS = frozenset({"address", "street"})
PLACE_WORDS = ADDRESS_WORDS | {"location", "destination", "origin", "airport", "place", "venue"}


def place_kind(tokens: frozenset[str] | set[str]) -> str | None:
    """"address", "place" or None for the tokens naming a value."""
    if tokens & ADDRESS_WORDS:
        return "address"
    return "place" if tokens & PLACE_WORDS else None


@lru_cache(maxsize=200_000)
def singular(word: str) -> str:
    """Singular, canonical form: "addresses" -> "address", "merchants" -> "seller"."""
    if len(word) > 4 and word.endswith(("sses", "xes", "shes")):  # addresses, boxes, wishes
        word = word[:-2]
    elif len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return CANONICAL.get(word, word)


@lru_cache(maxsize=200_000)
def name_tokens(name: str) -> tuple[str, ...]:
    """`receiverID` / `receiver_id` / `receiver-id` -> ("receiver", "id")."""
    spaced = _CAMEL.sub(" ", name)
    return tuple(singular(word) for word in _WORD.findall(spaced.lower()) if word not in STOPWORDS)


def text_tokens(text: str, limit: int = 40) -> frozenset[str]:
    """Content words of a description (first `limit` words: the head of a description names the thing)."""
    words = _WORD.findall(_CAMEL.sub(" ", text).lower())[:limit]
    return frozenset(singular(word) for word in words if word not in STOPWORDS)


def object_nouns(function_name: str) -> tuple[str, ...]:
    """What a function is about: its name without the leading verb(s) and generic words.

    `post_tweet` -> ("tweet",); `get_order_details` -> ("order",); `get_user_tickets` -> ("user", "ticket").
    """
    tokens = list(name_tokens(function_name))
    while tokens and tokens[0] in VERBS:
        tokens.pop(0)
    return tuple(token for token in tokens if token not in GENERIC and token not in VERBS)


# Generic words that only say "a collection of" or "the latest": dropped when matching a field to a parameter.
DROPPABLE = frozenset("list history result data info detail current new total all".split())

# What the items of a collection are called elsewhere (a directory's contents are file and folder names).
ELEMENT_SYNONYMS: dict[str, frozenset[str]] = {
    "content": frozenset({"file", "directory", "folder"}),
    "directory": frozenset({"file", "folder"}),
    "folder": frozenset({"file", "directory"}),
    "following": frozenset({"user", "username"}),
    "follower": frozenset({"user", "username"}),
    "user": frozenset({"username"}),
}

_DELIMITERS = frozenset("to for in from that which with at on by whose where used if when".split())
_SUBJECT_WORDS = re.compile(r"[A-Za-z0-9]+|[.,;:()\[\]]")


def subject_tokens(description: str, limit: int = 8) -> frozenset[str]:
    """The thing a parameter description names: its words up to the first preposition or punctuation.

    "User ID of the user to send the message to" -> {user, id}; "Keyword to search for in the content"
    -> {keyword}: the content is where the keyword is looked for, not what the parameter takes.
    """
    words: list[str] = []
    for raw in _SUBJECT_WORDS.findall(_CAMEL.sub(" ", description))[: limit + 4]:
        word = raw.lower()
        if not word.isalnum() or word in _DELIMITERS:
            if words:
                break
            continue
        words.append(word)
        if len(words) >= limit:
            break
    return frozenset(singular(word) for word in words if word not in STOPWORDS)


_EACH_WITH = re.compile(r"\beach with (?:an? |the |its )?([A-Za-z_ ,]+?)(?:[.;]|$)", re.I)
_GROUPED_BY = re.compile(r"\b(?:grouped|keyed|indexed) by (?:the )?([A-Za-z_]+)", re.I)


def item_field_words(description: str) -> frozenset[str]:
    """What a collection's items carry: "Products found, each with sku and title" -> {sku, title};
    "Dictionary of messages grouped by receiver" -> {receiver}."""
    found: set[str] = set()
    match = _EACH_WITH.search(description)
    if match:
        for part in re.split(r",| and ", match.group(1)):
            found.update(name_tokens(part.strip()))
    match = _GROUPED_BY.search(description)
    if match:
        found.update(name_tokens(match.group(1)))
    return frozenset(found - {"name"})


_LIST_OF = re.compile(r"\b(?:list|dictionary|dictionaries|array) of (?:the |all )?([A-Za-z]+)(?: ([A-Za-z]+))?", re.I)


def collection_item_words(description: str) -> frozenset[str]:
    """"List of stock symbols in the watchlist" -> {stock, symbol}; "List of orders ID" -> {order, id}."""
    match = _LIST_OF.search(description)
    if not match:
        return frozenset()
    words = []
    for word in match.groups():
        if not word or word.lower() in STOPWORDS:
            break
        words.append(singular(word.lower()))
    return frozenset(words)
