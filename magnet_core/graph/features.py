"""What the candidate index and the heuristic judge know about one function, computed once per function.

Judging 100,000 functions against 30 candidates each is millions of pair checks, so everything a check
needs (token sets, roles such as "logs in" or "changes the current directory") is precomputed here and
a pair check is a few set operations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.graph.premise_rules import achieving_arguments, rule_matches
from magnet_core.graph.tokens import (
    DROPPABLE,
    ELEMENT_SYNONYMS,
    GENERIC,
    PLACE_WORDS,
    VERBS,
    place_kind,
    collection_item_words,
    item_field_words,
    name_tokens,
    object_nouns,
    subject_tokens,
    text_tokens,
)

_NUMERIC = {"number", "integer"}
_CONTAINER = {"array", "object"}
_AUTH_WORDS = {"login", "authenticate", "auth", "signin", "logon"}
_SESSION_END = {"logout", "signout", "logoff"}
_STATUS_DESCRIPTION = re.compile(r"\b(true if|status of|describing the result|result of the|success)\b", re.I)
_ACCOUNT_SCOPE = re.compile(r"\b(authenticated user|current user|logged[- ]in|account|watchlist|history|my)\b", re.I)
_SETTER = re.compile(r"\bchange (?:the )?current (?:working )?(\w+)", re.I)
_CREATOR = re.compile(r"^(?:create|make) (?:a |an )?(?:new )?(\w+)", re.I)
BARE_RESULTS = frozenset({"result", "value", "output"})
_TEXTUAL = frozenset({"content", "line", "text"})
_CREDENTIAL = frozenset({"username", "password", "secret", "client", "credential"})
_LISTED = re.compile(r"\[enum\]|options are|possible values", re.I)
_SINKS = (frozenset({"content"}), frozenset({"text"}), frozenset({"body"}))
_MUTATING = frozenset(
    """post send create delete remove cancel place book buy sell fund withdraw add edit update close resolve
    comment retweet follow unfollow mention register purchase transfer trade logout checkout order pay reserve
    redeem request""".split()
)


@dataclass(frozen=True, slots=True)
class OutputField:
    field: str
    key: frozenset[str]  # name tokens, qualified by the function's object noun when the name is generic
    core: frozenset[str]  # key without generic words
    matchable: frozenset[str]  # key without words that only say "a list of" / "current"
    head: str | None  # last non-generic name token ("airport" of nearest_airport)
    elements: frozenset[str]  # for collections: what their items are called
    numeric: bool
    container: bool
    string: bool
    textual: bool  # text a "content" parameter could take (file content, matching lines)
    described: frozenset[str]  # what its description says it is ("Return authorisation ID" -> {return, authorization, id})
    place: str | None  # "address" or "place" when it names one (an address; a location, an airport)


@dataclass(frozen=True, slots=True)
class InputParam:
    param: str
    name: frozenset[str]
    subject: frozenset[str]  # name + what the description says the parameter is
    text: frozenset[str]  # name + the first words of the description
    numeric: bool
    container: bool
    generic: bool  # "a", "number", "value": takes any number
    fresh: bool  # "the name of the new file": invented by the caller, never fed by another call
    credential: bool  # typed by the user (username, password, secret), never fed by another call
    sink: bool  # free text ("content"): takes any text output
    required: bool
    place: str | None  # "address" when it takes an address, "place" when any place (a destination, an origin)
    listed: bool  # takes one of the values its description lists ([Enum], "options are")


@dataclass(frozen=True, slots=True)
class SpecFeatures:
    qualified: str
    group: str | None  # tool class, else category: the candidate neighbourhood
    outputs: tuple[OutputField, ...]
    params: tuple[InputParam, ...]
    param_index: dict[str, tuple[int, ...]]  # token -> indexes of params whose text holds it
    is_auth: bool
    ends_session: bool
    needs_auth: bool
    setter_noun: str | None
    created_noun: str | None
    mentions: frozenset[str]  # every content token of the description and parameter descriptions
    creates: bool
    verb: str  # leading verb of the name ("send" of send_message)
    name_rest: frozenset[str]  # the other name tokens, verbs removed
    lexicon_source: frozenset[int]  # premise-lexicon rules this function can satisfy
    lexicon_target: frozenset[int]  # premise-lexicon rules this function needs
    out_tokens: frozenset[str]  # every token an output could match on (pre-check of a pair)
    in_tokens: frozenset[str]  # every token of the parameters' names and subjects
    loose_outputs: bool  # has an output that matches without shared tokens (free text, bare number)

    @property
    def out_keys(self) -> frozenset[str]:
        return frozenset(token for out in self.outputs for token in out.core)

    @property
    def in_keys(self) -> frozenset[str]:
        return frozenset(token for param in self.params for token in param.name if token not in GENERIC)


def _tool_description(spec: FunctionSpec) -> str:
    """BFCL prefixes every description with its class blurb; the part after it is about the function."""
    return spec.description.split("Tool description:", 1)[-1].strip()


def _is_status_field(name: str, schema: dict[str, Any]) -> bool:
    tokens = set(name_tokens(name))
    if schema.get("type") == "boolean" or name.startswith("_") or tokens & {"status", "success"}:
        return True
    return tokens <= GENERIC and bool(_STATUS_DESCRIPTION.search(str(schema.get("description", ""))))


def _output_fields(spec: FunctionSpec) -> tuple[OutputField, ...]:
    nouns = object_nouns(spec.name)
    fields = []
    for name, schema in spec.response_properties.items():
        schema = schema if isinstance(schema, dict) else {}
        if _is_status_field(name, schema):
            continue
        tokens = name_tokens(name)
        key = set(tokens)
        if key and key <= {"id", "name"} and nouns:
            key.add(nouns[-1])
        specific = [token for token in tokens if token not in GENERIC]
        head = specific[-1] if specific else None
        container = schema.get("type") in _CONTAINER
        elements: set[str] = set()
        if container:
            description = str(schema.get("description", ""))
            elements = set(collection_item_words(description)) | item_field_words(description) | ({head} if head else set())
            for word in list(elements):
                elements |= ELEMENT_SYNONYMS.get(word, frozenset())
        matchable = frozenset(key - DROPPABLE)
        fields.append(
            OutputField(
                field=name,
                key=frozenset(key),
                core=frozenset(key - GENERIC),
                matchable=matchable if matchable - GENERIC else frozenset(),
                head=head,
                elements=frozenset(elements),
                numeric=schema.get("type") in _NUMERIC,
                container=container,
                string=schema.get("type") == "string",
                textual=bool(key & _TEXTUAL) and "id" not in key,
                described=subject_tokens(str(schema.get("description", ""))) - DROPPABLE,
                place=place_kind(key) if "id" not in key else None,
            )
        )
    return tuple(fields)


def _input_params(spec: FunctionSpec) -> tuple[InputParam, ...]:
    required = set(spec.required_params)
    params = []
    for name, schema in spec.param_properties.items():
        schema = schema if isinstance(schema, dict) else {}
        tokens = frozenset(name_tokens(name))
        kind = schema.get("type")
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        numeric = kind in _NUMERIC or (kind == "array" and items.get("type") in _NUMERIC)
        description = str(schema.get("description", ""))
        subject = tokens | subject_tokens(description)
        params.append(
            InputParam(
                param=name,
                name=tokens,
                subject=subject,
                text=tokens | text_tokens(description, limit=12),
                numeric=numeric,
                container=kind in _CONTAINER,
                generic=numeric and (tokens <= GENERIC or all(len(token) == 1 for token in tokens)),
                fresh="new" in subject,
                credential=bool(tokens & _CREDENTIAL),
                sink=tokens in _SINKS,
                required=name in required,
                place=place_kind(subject) if "id" not in tokens else None,
                listed=bool(_LISTED.search(description)),
            )
        )
    return tuple(params)


def spec_lexicon(spec: FunctionSpec, tokens: tuple[str, ...] | None = None, description: str | None = None) -> tuple[frozenset[int], frozenset[int]]:
    """(premise-lexicon rules the function can set up, rules it needs), matched on its "name + description"."""
    tokens = name_tokens(spec.name) if tokens is None else tokens
    description = _tool_description(spec) if description is None else description
    return rule_matches(f"{' '.join(tokens)} {description}".lower())


def premise_values(specs: list[FunctionSpec]) -> dict[str, dict[str, Any]]:
    """For calls in this order: function -> argument values by which it sets up a required premise of a
    later call (lock *all* doors, press the brake *fully*), for the offline value drafter to try first."""
    lexicons = [spec_lexicon(spec) for spec in specs]
    found: dict[str, dict[str, Any]] = {}
    for position, (spec, (sets_up, _)) in enumerate(zip(specs, lexicons)):
        for later, (_, needs) in zip(specs[position + 1:], lexicons[position + 1:]):
            if (later.tool_class or later.category) == (spec.tool_class or spec.category):
                values = achieving_arguments(sets_up, needs)
                if values:
                    found.setdefault(spec.qualified_name, {}).update(values)
    return found


def spec_features(spec: FunctionSpec) -> SpecFeatures:
    description = _tool_description(spec)
    tokens = name_tokens(spec.name)
    names = set(tokens)
    outputs = _output_fields(spec)
    params = _input_params(spec)
    index: dict[str, list[int]] = {}
    for position, param in enumerate(params):
        for token in param.subject:
            index.setdefault(token, []).append(position)
    param_text = " ".join(str(s.get("description", "")) for s in spec.param_properties.values() if isinstance(s, dict))
    is_auth = bool(names & _AUTH_WORDS) or description.lower().startswith(("authenticate", "log in", "handle user login"))
    ends_session = bool(names & _SESSION_END)
    status_getter = "status" in names and not spec.required_params
    is_auth = is_auth and not ends_session and not status_getter
    credential = any(param.name & {"token", "session"} for param in params)
    verb = tokens[0] if tokens else ""
    needs_auth = not is_auth and not status_getter and (
        credential or ends_session or verb in _MUTATING or bool(_ACCOUNT_SCOPE.search(description))
    )
    setter = _SETTER.search(description)
    created = _CREATOR.search(description)
    lexicon = spec_lexicon(spec, tokens, description)
    out_tokens = frozenset(t for o in outputs for t in (o.core | o.matchable | o.elements | (o.described - GENERIC)
                                                        | (PLACE_WORDS if o.place else set()) | ({o.head} if o.head else set())))
    in_tokens = frozenset(t for param in params for t in param.subject | (param.text if param.numeric else frozenset()))
    return SpecFeatures(
        qualified=spec.qualified_name,
        group=spec.tool_class or spec.category,
        outputs=outputs,
        params=params,
        param_index={token: tuple(positions) for token, positions in index.items()},
        is_auth=is_auth,
        ends_session=ends_session,
        needs_auth=needs_auth,
        setter_noun=setter.group(1).lower() if setter else None,
        created_noun=created.group(1).lower() if created else None,
        mentions=text_tokens(description + " " + param_text, limit=200),
        creates=bool(created),
        verb=verb,
        name_rest=frozenset(tokens[1:]) - VERBS,
        lexicon_source=lexicon[0],
        lexicon_target=lexicon[1],
        out_tokens=out_tokens,
        in_tokens=in_tokens,
        loose_outputs=any(o.textual or (o.numeric and o.key <= BARE_RESULTS) for o in outputs),
    )
