"""Reading a clause in context: statements that set the scene, and qualifiers nobody knows."""

from __future__ import annotations

import itertools

from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import vocab
from pipeline.nlu.parse import Claims
from pipeline.nlu.tokens import Token

QUESTION_WORDS = vocab(
    "is are can could what which how where who does do did why when will would should see know find"
)
STATE_VERBS = vocab(
    "is are seems seem looks keeps keep kept appears was were went died crashed crashing hung stuck"
)  # 'sessions keep dropping': a report
_STOP = vocab(
    "on in at for to of from with across and or but the a an all every each any our my your their its "
    "is are was were be do does have has what which where how many show list"
)
_HARMLESS = vocab(
    "other remaining following relevant affected respective same running active current existing "
    "available both two three four many known listed above below said total general parallel sequence "
    "order detail details short summary full bulk batch case time advance future question sync progress "
    "use place turn addition particular public private json table text chat here there inventory list "
    "cmdb stock question most least max maximum minimum once first last night noon midnight home work "
    "peak least worst best random parallel"
)


def is_statement(tokens: tuple[Token, ...], verbs: frozenset[str]) -> bool:
    """'nginx on web-02 is dead', 'db-01 seems slow': context for the request that follows."""
    from pipeline.nlu.lexicon import FILLER

    ordered = [t.low for t in tokens if t.kind == "word" and (t.low not in FILLER or t.low in _SPEAKERS)]
    if not ordered or (ordered[0] in QUESTION_WORDS and not _value_opens(tokens)):
        return False
    if ordered[0] in verbs and not (len(ordered) > 1 and ordered[1] in _STATE_LINKS):
        return False  # an order, unless the verb is a noun its state follows ('mail is stuck')
    if {"if", "whether"} & set(ordered):
        return False  # "see if nginx is alive": an embedded question, not a statement
    if ordered[0] in REASONS:
        return True  # 'because it's hammering the disk': why the request before it is made
    if ordered[0] in _SPEAKERS and not set(ordered[1:3]) & (_WANTING | _ASKING):
        return True  # "we're seeing packet loss to api-02", "it's hanging", 'we are getting errors'
    return bool(set(ordered) & STATE_VERBS)


def _value_opens(tokens: tuple[Token, ...]) -> bool:
    """'/var is full on web-01', '10.0.0.5 is unreachable': a value is the subject, not a question."""
    first = next((t for t in tokens if t.kind != "punct"), None)
    return first is not None and first.kind not in {"word", "number"}


def commentary(tokens: tuple[Token, ...], explained: frozenset[int], verbs: frozenset[str]) -> frozenset[int]:
    """The tokens of a trailing comment on the request ('reboot web-03 - it's completely hung,
    nothing responds', 'restart it as it is leaking memory'): after a break (punctuation or a
    reason word) past everything the reading explains, a statement about the state of things."""
    for at, token in enumerate(tokens):
        if token.kind != "punct" and token.low not in REASONS:
            continue
        rest = tokens[at + 1 :]
        if any(t.index in explained for t in rest):
            continue
        words = tuple(t for t in rest if t.kind == "word")
        if words and (token.low in REASONS or is_statement(words, verbs)):
            return frozenset(t.index for t in words) | {token.index}
    return frozenset()


REASONS = vocab("because cause cuz coz since as")
_STATE_LINKS = vocab("is are was were keeps keep seems seem looks appears")
_SPEAKERS = vocab(
    "it it's its they they're we we're i i'm he he's she she's there's that's customers users clients"
)
_ASKING = vocab("can could will may might shall")  # 'we can restart it', 'i will check'
_WANTING = vocab("need needs want wants would 'd like have must should")


def unknown_qualifiers(
    tokens: tuple[Token, ...],
    index: InventoryIndex,
    claims: Claims,
    known: frozenset[str],
    verbs: frozenset[str],
) -> list[str]:
    """Words qualifying a host noun or a type that the inventory does not know ('frankfurt servers',
    'the zork dbs').

    Dropping such a word would silently widen the selection, so the caller asks back.
    """
    from pipeline.nlu.lexicon import ENVIRONMENT_SYNONYMS, FILLER, HOST_NOUNS

    selector_words = {w for group in ENVIRONMENT_SYNONYMS.values() for w in group}
    unknown: list[str] = []
    for position, token in enumerate(tokens):
        if token.kind != "word" or token.low in {"one", "system"} or not _noun(token, index, claims):
            continue
        for before in reversed(tokens[:position]):
            if before.kind != "word" or before.low in _STOP or before.low in verbs:
                break
            if before in claims or before.low in _HARMLESS or before.low in HOST_NOUNS:
                continue
            if before.low in selector_words or not (before.low in known or before.low in FILLER):
                unknown.append(before.text)
            break
    return unknown + _unknown_places(tokens, selector_words, claims, known)


def _noun(token: Token, index: InventoryIndex, claims: Claims) -> bool:
    """A host noun ('servers', 'boxes') or a word the selection read as a type ('dbs', 'switches')."""
    from pipeline.nlu.lexicon import HOST_NOUNS

    return token.low in HOST_NOUNS or (token in claims and index.type_for_words((token.low,)) is not None)


def _unknown_places(
    tokens: tuple[Token, ...], selector_words: set[str], claims: Claims, vocabulary: frozenset[str]
) -> list[str]:
    """'everything in frankfurt' where the inventory has no frankfurt."""
    from pipeline.nlu.lexicon import COMMON, FILLER, QUANTIFIERS

    known = vocabulary | FILLER | COMMON | _HARMLESS | _STOP

    if not any(t in claims or t.low in QUANTIFIERS for t in tokens if t.kind == "word"):
        return []
    unknown = []
    for token, nxt in itertools.pairwise(tokens):
        if token.low not in {"in", "at", "by"} or nxt.kind != "word" or nxt in claims:
            continue
        if any(c.isdigit() for c in nxt.low) and not nxt.low[0].isalpha():
            continue  # 'cap it at 25 hops', 'in 5 minutes': an amount, not a place
        low = nxt.low
        if token.low == "by" and low not in selector_words:
            continue  # "filtered by redis", "sorted by memory": not a place
        if low in selector_words or low not in known:
            unknown.append(nxt.text)
    return unknown
