"""Confidence from coverage: how much of a clause its reading explains.

Every content word must be accounted for: by the tool's declared words, by a target or value the
reading uses, or as glue (politeness, question words, general English). A word nothing explains,
or a typed value the reading cannot use, lowers the confidence; below the planner's threshold the
request goes to the LLM when one is configured, or is asked back with the closest readings.
"""

from __future__ import annotations

from pipeline.nlu.english import (
    ADVICE_WORDS,
    AUXILIARIES,
    DISCOURSE,
    HYPOTHETICAL_WORDS,
    MODALS,
    ORDERING_VERBS,
    PAST_MARKERS,
    QUESTION_WORDS,
    REPORT_WORDS,
    STATE_VERBS,
    SUBJECTS,
    stem,
)
from pipeline.nlu.lexicon import (
    COMMON,
    DISTRIBUTIVES,
    FILLER,
    GREETINGS,
    HOST_NOUNS,
    LOOK_VERBS,
    PRONOUNS,
    QUANTIFIERS,
    THEN_WORDS,
    vocab,
)
from pipeline.nlu.parse import Parse, Value
from pipeline.nlu.reading import Reading

_TIME = vocab(
    """
    now today tonight tomorrow yesterday morning afternoon evening night week weekend month hour hours
    minute minutes second seconds day days time times moment sec while soon later asap again next last
    first until till since during before after ago pm am utc noon midnight window maintenance
    """
)
_CALENDAR = vocab(
    """
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thurs fri sat sun
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    """
)
_TIME_PREPOSITIONS = vocab("after before since during until till from around by")
GLUE = (
    FILLER
    | COMMON
    | DISCOURSE
    | SUBJECTS
    | MODALS
    | AUXILIARIES
    | QUESTION_WORDS
    | PRONOUNS
    | QUANTIFIERS
    | DISTRIBUTIVES
    | HOST_NOUNS
    | LOOK_VERBS
    | GREETINGS
    | THEN_WORDS
    | STATE_VERBS
    | ADVICE_WORDS
    | HYPOTHETICAL_WORDS
    | ORDERING_VERBS
    | PAST_MARKERS
    | REPORT_WORDS
    | _TIME
    | _CALENDAR
    | vocab("ahead mind great nice sure pls thx ty lol yeah yes no not use using used instead only rather")
    | vocab("once more")  # 'restart it once more'
)
_GLUE_STEMS = frozenset(stem(w) for w in GLUE)
_WEAK_VALUES = frozenset({"number", "duration", "size", "port", "kv"})


def _glue(low: str) -> bool:
    return low in GLUE or stem(low) in _GLUE_STEMS


def _modifier(value: Value, parse: Parse, explained: frozenset[int]) -> bool:
    """'the nginx config', 'the redis log': a value qualifying the word after it is explained with it."""
    at = parse.position(value.tokens[-1])
    following = parse.tokens[at + 1] if at + 1 < len(parse.tokens) else None
    return following is not None and following.index in explained and following.kind == "word"


def _when(parse: Parse) -> set[int]:
    """'after patch tuesday', 'since the maintenance window', 'before friday': a time adverbial
    (a temporal preposition, at most three words, a time word) says when, not what."""
    words = parse.words
    found: set[int] = set()
    for i, token in enumerate(words):
        if token.low not in _TIME_PREPOSITIONS:
            continue
        for j in range(i + 1, min(i + 4, len(words))):
            if words[j].low in _TIME or words[j].low in _CALENDAR:
                found.update(t.index for t in words[i : j + 1])
                break
    return found


_POSSESSIVES = vocab("my our")


def _own(parse: Parse) -> set[int]:
    """'from my laptop', 'my vpn drops', 'on our office wifi': the speaker's own things say where
    they stand, not what to act on (a host of the inventory written after 'my' is still a target)."""
    taken = parse.claimed | {i for v in parse.values for i in v.tokens}
    words = parse.words
    found: set[int] = set()
    for i, token in enumerate(words):
        if token.low not in _POSSESSIVES:
            continue
        for following in words[i + 1 : i + 3]:
            if following.index in taken or _glue(following.low):
                break
            found.add(following.index)
    return found


def coverage(parse: Parse, reading: Reading, commentary: frozenset[int] = frozenset()) -> float:
    """The share of the clause's content that the reading explains (1.0: all of it).

    `commentary`: tokens of a trailing comment on the request ('- it's completely hung'), which
    say why, not what: accounted for."""
    explained = reading.explained() | parse.claimed | _when(parse) | _own(parse) | commentary
    content = [t for t in parse.words if not _glue(t.low) or t.index in explained]
    unexplained = [t for t in content if t.index not in explained and not t.low.isdigit()]
    used = set(reading.uses)
    stray = [
        v
        for v in parse.values
        if v not in used and not v.kinds & _WEAK_VALUES and not v.weak and not _modifier(v, parse, explained)
    ]
    total = len(content) + len(stray)
    if total == 0:
        return 1.0
    return round(1.0 - (len(unexplained) + len(stray)) / total, 3)
