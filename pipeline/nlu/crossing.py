"""Crossed clauses: 'check nginx on web-03 and gunicorn on api-02' is two steps, not four.

A clause is cut at 'and' / ',' / '&' / 'plus' where the part after it names its own hosts
*and* its own object (a service, a fact, a quoted command, ...). Each part keeps its own
hosts; a part without a verb borrows the leading verb words of the first part
('restart nginx on web-01 and redis on cache-01' -> '... and restart redis on cache-01').
A part with hosts only ('ping web-01 and web-02') or an object only ('nginx and redis on
web-01') stays in the clause it belongs to.
"""

from __future__ import annotations

from pipeline.nlu.english import stem
from pipeline.nlu.inventory import InventoryIndex
from pipeline.nlu.lexicon import COMMON, FILLER, GENERAL_VERBS, HOST_NOUNS, PRONOUNS, QUANTIFIERS, vocab
from pipeline.nlu.parse import Parse, Value
from pipeline.nlu.recognise import recognise
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import ToolWords
from pipeline.nlu.values import service_name

_PLACE_WORDS = vocab("on at in for from across")
_JOINS = vocab("and plus , & ;")
_GLUE = (
    FILLER | COMMON | HOST_NOUNS | PRONOUNS | QUANTIFIERS | vocab("on at in for from across with also too")
)


def uncross(tokens: list[Token], index: InventoryIndex, words: ToolWords) -> list[list[Token]]:
    """The clause as one or more clauses, one per part with its own hosts and object."""
    segments = _segments(tokens)
    if len(segments) < 2 or _sets_fields(tokens, words):
        return [tokens]  # "add asset web-05, address 192.0.2.15, linux": fields, not steps
    if _look(tokens, index, words).targets.exclude:
        return [tokens]  # "..., web-03 - not web-02 though": an exclusion covers the whole clause
    groups: list[list[Token]] = [segments[0]]
    first = _look(segments[0], index, words)
    hosts, thing = _hosts(first), _has_object(first, words)
    for segment in segments[1:]:
        seen = _look(_strip_join(segment), index, words)
        if hosts and thing and _hosts(seen) and _has_object(seen, words):
            groups.append(_strip_join(segment))
            continue  # "are web-01 and web-02 online": the first part has no object of its own
        groups[-1] = groups[-1] + segment
        hosts, thing = hosts or _hosts(seen), thing or _has_object(seen, words)
    if len(groups) == 1:
        return [tokens]
    lead = _leading_words(groups[0], index, words)
    kind = _object_kind(_look(groups[0], index, words), words)
    return [groups[0]] + [
        _with_verb(g, lead, words) if _object_kind(_look(g, index, words), words) == kind else g
        for g in groups[1:]
    ]


def _sets_fields(tokens: list[Token], words: ToolWords) -> bool:
    """A request to a tool that sets inventory fields: its commas separate fields."""
    stems = {stem(t.low) for t in tokens if t.kind == "word"}
    return any(
        "field" in tool.kinds() and any(r == "verb" and p[0] in stems for p, r in tool.phrases.items())
        for tool in words
    )


def _object_kind(parse: Parse, words: ToolWords) -> str:
    """What a part acts on; a verb is only shared between parts acting on the same kind of thing
    ('restart nginx on web-01, db-01 memory' must never read as 'restart db-01')."""
    for kind in ("service", "quote", "path", "port"):
        if parse.of_kind(kind):
            return kind
    valued = [t.low for t in parse.tokens if t.kind == "word" and _value_word(t.low, words)]
    return f"value:{valued[0]}" if valued else "other"


def _value_word(low: str, words: ToolWords) -> bool:
    """A value of a read ('memory', 'uptime'): what a part is about, not its verb ('restart')."""
    return any(
        role == "value" and not tool.changes for _, tool, role, _, _ in words.starts.get(stem(low), [])
    )


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


def _look(tokens: list[Token], index: InventoryIndex, words: ToolWords) -> Parse:
    return recognise(tokens, index, words)


def _hosts(parse: Parse) -> bool:
    found = parse.targets
    return bool(found.names or found.raw or found.unknown or found.selector.anchored)


def _has_object(parse: Parse, words: ToolWords) -> bool:
    kinds = {"service", "quote", "path", "port", "number"}
    paced = [_paced(v, parse, words) for v in parse.values]
    if any(v.kinds & kinds and not cue for v, cue in zip(parse.values, paced, strict=True)):
        return True
    verbs = {stem(v) for v in words.verbs | GENERAL_VERBS}
    cues = {i for cue in paced for i in cue}
    return any(
        stem(t.low) in words.starts and stem(t.low) not in verbs and t.low not in _GLUE
        for t in parse.free_words()
        if t.index not in cues
    )


def _paced(value: Value, parse: Parse, words: ToolWords) -> tuple[int, ...]:
    """'in batches of 2', 'two at a time': a number led or followed by a number slot's multi-word
    cue (`ToolWords.paces`, `pace_leads`) says how the whole request runs: the cue's tokens, or ()."""
    if not value.has("number"):
        return ()
    start, end = parse.position(value.tokens[0]), parse.position(value.tokens[-1])
    before = [t for t in parse.tokens[:start] if t.kind == "word"]
    after = [t for t in parse.tokens[end + 1 :] if t.kind == "word"]
    for lead in words.pace_leads:
        if tuple(stem(t.low) for t in before[-len(lead) :]) == lead:
            return tuple(t.index for t in before[-len(lead) :])
    for pace in words.paces:
        if tuple(stem(t.low) for t in after[: len(pace)]) == pace:
            return tuple(t.index for t in after[: len(pace)])
    return ()


def _leading_words(tokens: list[Token], index: InventoryIndex, words: ToolWords) -> list[Token]:
    """'check the status of' in 'check the status of nginx on web-03': the words before the object."""
    seen = _look(tokens, index, words)
    taken = seen.claimed | {i for v in seen.values for i in v.tokens}
    lead: list[Token] = []
    for token in seen.tokens:
        if token.kind != "word" or token.index in taken or _value_word(token.low, words):
            break
        if token.low in _PLACE_WORDS or service_name(token.text, index) is not None:
            break  # "check postgres on db-01": an alias of the object, or where it is
        lead.append(token)
    return lead


def _with_verb(group: list[Token], lead: list[Token], words: ToolWords) -> list[Token]:
    first = next((t for t in group if t.low not in FILLER), None)
    verbs = words.verbs | GENERAL_VERBS | _ASKING
    own_verb = first is not None and first.kind == "word" and first.low in verbs
    if not lead or own_verb or (first is not None and first.low in {t.low for t in lead}):
        return group
    return lead + group


_ASKING = vocab("is are was were does do did has have can could what which how who where when why")
