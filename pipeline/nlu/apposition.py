"""Descriptions of named hosts: 'the database db-stg-01', 'the web box web-04', 'web-04, the web box'.

When a request names its hosts, the nouns and adjectives written right next to a name
describe that host; they never add a selector (which would widen the targets to every
host sharing the tag or type). Words that name a service or a protocol stay free: they
may still be the request's argument ('restart postgres pg-qa').
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import HOST_NOUNS
from pipeline.nlu.selectors import MACHINE_NOUNS
from pipeline.nlu.tokens import Token

if TYPE_CHECKING:
    from pipeline.nlu.parse import Claims

_DETERMINERS = frozenset({"the", "our", "that", "this", "a", "an", "your", "my"})
_SINGULAR_NOUNS = frozenset(n for n in HOST_NOUNS | MACHINE_NOUNS if not n.endswith("s"))


def mark_descriptions(
    tokens: list[Token],
    named: list[Token],
    index: InventoryIndex,
    claims: Claims,
    vocabulary: frozenset[str] = frozenset(),
) -> None:
    """Take the descriptive words next to each named host token (they only describe it).

    `vocabulary`: the catalog's words; any other single word between a determiner and a name is
    the host's role as its owners call it ('the replica db-02', 'our standby db-02').
    """
    for token in named:
        position = tokens.index(token)
        _describe(tokens[:position][::-1], index, claims, before=True)
        _describe(tokens[position + 1 :], index, claims, before=False)
        _role_noun(tokens[:position][::-1], index, claims, vocabulary)


def _role_noun(side: list[Token], index: InventoryIndex, claims: Claims, vocabulary: frozenset[str]) -> None:
    if len(side) < 2 or side[1].low not in _DETERMINERS:
        return
    word = side[0]
    plain = word.kind == "word" and word.low.isalpha() and word not in claims
    if plain and word.low not in vocabulary and word.low not in index.services and not word.low.endswith("s"):
        claims.take(word)


def _describe(side: list[Token], index: InventoryIndex, claims: Claims, *, before: bool) -> None:
    """Walk away from the name over descriptor words; mark them when the run is a description.

    Before the name the run must open with a determiner or end in a singular noun
    ('the k8s node X', 'database X' is left alone); after it, it must be ', the ... noun'.
    """
    words = side
    if not before:
        while words and words[0].kind == "punct" and words[0].text == ",":
            words = words[1:]
        if not words or words[0].low not in _DETERMINERS:
            return
        words = words[1:]
    run: list[Token] = []
    for token in words:
        if token.kind != "word" or token in claims or not _descriptor(token.low, index):
            break
        run.append(token)
    if not run:
        return
    nouns = [t for t in run if t.low in _SINGULAR_NOUNS or _type_word(t.low, index)]
    closing = run[0] if before else run[-1]  # the word next to the name (before) / the last one
    after = words[len(run)] if len(run) < len(words) else None
    determined = after is not None and after.low in _DETERMINERS if before else True
    if not nouns or (before and not determined and closing not in nouns):
        return
    if any(t.low.endswith("s") and t.low in HOST_NOUNS for t in run):
        return  # 'the web servers web-01 ...': plural, leave it to the selector rules
    claims.take(*run)


def _descriptor(low: str, index: InventoryIndex) -> bool:
    if low in index.services:
        return False
    return (
        low in _SINGULAR_NOUNS
        or low in index.tag_values
        or low in index.environments
        or low in index.locations
        or low in index.os
        or _type_word(low, index)
    )


def _type_word(low: str, index: InventoryIndex) -> bool:
    return not low.endswith("s") and index.type_for_words((low,)) is not None
