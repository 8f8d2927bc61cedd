"""Crossed clauses: 'check nginx on web-03 and gunicorn on api-02' is two steps, not four.

A clause is cut at 'and' / ',' / '&' / 'plus' where the part after it names its own hosts
*and* its own object (a service, a fact, a quoted command, ...). Each part keeps its own
hosts; a part without a verb borrows the leading verb words of the first part
('restart nginx on web-01 and redis on cache-01' -> '... and restart redis on cache-01').
A part with hosts only ('ping web-01 and web-02') or an object only ('nginx and redis on
web-01') stays in the clause it belongs to.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.nlu.cues import CREATE_WORDS, DELETE_WORDS, PING_WORDS, SERVICE_VERBS, UPDATE_WORDS, VOCABULARY
from pipeline.nlu.entities import Clause, extract
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import (
    CLAUSE_VERBS,
    COMMON,
    FACT_WORDS,
    FILLER,
    HOST_NOUNS,
    PRONOUNS,
    QUANTIFIERS,
    vocab,
)
from pipeline.nlu.slots import service_name
from pipeline.nlu.text import Token

_PLACE_WORDS = vocab("on at in for from across")
_ASSET_ADMIN = CREATE_WORDS | UPDATE_WORDS | DELETE_WORDS
_JOINS = vocab("and plus , & ;")
_GLUE = (
    FILLER | COMMON | HOST_NOUNS | PRONOUNS | QUANTIFIERS | vocab("on at in for from across with also too")
)
_VERBS = CLAUSE_VERBS | SERVICE_VERBS | PING_WORDS  # verbs and states are not objects


def uncross(tokens: list[Token], index: InventoryIndex) -> list[list[Token]]:
    """The clause as one or more clauses, one per part with its own hosts and object."""
    segments = _segments(tokens)
    if len(segments) < 2 or {t.low for t in tokens} & _ASSET_ADMIN:
        return [tokens]  # "add asset web-05, address 192.0.2.15, linux": fields, not steps
    if _look(tokens, index).targets.exclude:
        return [tokens]  # "..., web-03 - not web-02 though": an exclusion covers the whole clause
    groups: list[list[Token]] = [segments[0]]
    first = _look(segments[0], index)
    hosts, thing = _hosts(first), _has_object(first)
    for segment in segments[1:]:
        seen = _look(_strip_join(segment), index)
        if hosts and thing and _hosts(seen) and _has_object(seen):
            groups.append(_strip_join(segment))
            continue  # "are web-01 and web-02 online": the first part has no object of its own
        groups[-1] = groups[-1] + segment
        hosts, thing = hosts or _hosts(seen), thing or _has_object(seen)
    if len(groups) == 1:
        return [tokens]
    lead = _leading_words(groups[0], index)
    kind = _object_kind(_look(groups[0], index))
    return [groups[0]] + [
        _with_verb(g, lead) if _object_kind(_look(g, index)) == kind else g for g in groups[1:]
    ]


def _object_kind(clause: Clause) -> str:
    """What a part acts on; a verb is only shared between parts acting on the same kind of thing
    ('restart nginx on web-01, db-01 memory' must never read as 'restart db-01')."""
    slots = clause.slots
    for kind, present in (
        ("service", slots.services or slots.weak_services),
        ("fact", slots.facts),
        ("quote", slots.quotes),
        ("path", slots.paths),
        ("port", slots.ports or slots.port_names or slots.bare_numbers),
        ("record", slots.record_type),
    ):
        if present:
            return kind
    return "other"


def _segments(tokens: list[Token]) -> list[list[Token]]:
    segments: list[list[Token]] = [[]]
    for token in tokens:
        if token.low in _JOINS and token.kind in {"word", "punct"} and segments[-1]:
            segments.append([])
        segments[-1].append(token)
    return segments


def _strip_join(segment: list[Token]) -> list[Token]:
    rest = list(segment)
    while rest and (rest[0].low in _JOINS or rest[0].low in {"also", "then"}):
        rest = rest[1:]
    return rest


def _look(tokens: list[Token], index: InventoryIndex) -> Clause:
    return extract([replace(t, used=False) for t in tokens], index)


def _hosts(clause: Clause) -> bool:
    found = clause.targets
    return bool(found.names or found.raw or found.unknown or found.selector.anchored)


def _has_object(clause: Clause) -> bool:
    slots = clause.slots
    if slots.services or slots.weak_services or slots.facts or slots.quotes or slots.paths or slots.ports:
        return True
    if slots.record_type or slots.bare_numbers:
        return True
    return any(
        t.kind == "word" and not t.used and t.low in VOCABULARY and t.low not in _GLUE | _VERBS
        for t in clause.tokens
    )


def _leading_words(tokens: list[Token], index: InventoryIndex) -> list[Token]:
    """'check the status of' in 'check the status of nginx on web-03': the words before the object."""
    seen = _look(tokens, index)
    objects = {s.lower() for s in seen.slots.services + seen.slots.weak_services}
    lead: list[Token] = []
    for token in seen.tokens:
        if token.kind != "word" or token.used or token.low in objects or token.low in FACT_WORDS:
            break
        if token.low in _PLACE_WORDS or service_name(token.text, index) is not None:
            break  # "check postgres on db-01": an alias of the object, or where it is
        lead.append(token)
    return lead


def _with_verb(group: list[Token], lead: list[Token]) -> list[Token]:
    first = next((t for t in group if t.low not in FILLER), None)
    own_verb = first is not None and first.kind == "word" and first.low in CLAUSE_VERBS | _ASKING
    if not lead or own_verb or (first is not None and first.low in {t.low for t in lead}):
        return group
    return [replace(t, used=False) for t in lead] + group


_ASKING = vocab("is are was were does do did has have can could what which how who where when why")
