"""Who is using it: a question whose subject is the consumer, not the amount.

A word may be declared as one read's verb ('eat', 'hog': what a process does) and as another
read's state ('eating', 'hogging': how a resource is doing), and the resource after it ('cpu')
as another read's value. The verb's subject tells them apart:

    what's eating cpu on web-01          subject 'what'    -> the agent is asked: the verb's tool
    is java hogging memory on api-01?    subject a name    -> the agent is named: the verb's tool
    something is chewing through disk    subject 'something'
    how much memory is web-01 using      subject a host    -> the amount: the state's tool
    memory is running out on web-02      subject a resource

When the consumer is asked or named, other reads' states on the verb are dropped and the
resource it consumes ('cpu', 'disk io') is the verb's object: explained by the verb's tool, no
argument of another.
"""

from __future__ import annotations

from pipeline.nlu.english import (
    AUXILIARIES,
    INDEFINITES,
    MODALS,
    QUESTION_WORDS,
    SUBJECTS,
    is_past,
    stem,
)
from pipeline.nlu.lexicon import COMMON, FILLER, PRONOUNS
from pipeline.nlu.parse import Parse
from pipeline.nlu.reading import Match
from pipeline.nlu.tokens import Token
from pipeline.nlu.toolwords import ToolView, ToolWords

_BETWEEN = AUXILIARIES | {"currently", "constantly", "still", "really", "actually", "just"}
_OBJECT_GLUE = frozenset({"the", "all", "most", "up", "through", "so", "much", "of", "my", "our", "a", "lot"})
_OBJECT_END = frozenset({"on", "at", "in", "for", "across", "from", "over", "and", "right", "now"})

_CLOSED = PRONOUNS | SUBJECTS | MODALS | FILLER | COMMON
_RESOURCES = frozenset({"io", "i/o", "iops", "bandwidth", "cycles", "threads", "handles", "sockets"})

Found = list[tuple[ToolView, Match]]


def consumer_asked(parse: Parse, found: Found, words: ToolWords) -> Found:
    """`found` with the state readings of a consumption word dropped where its subject is the
    consumer, and the verb's match stretched over the resource it consumes."""
    for tool, match in list(found):
        if match.role != "verb" or tool.changes or not _agent_subject(parse, match.tokens[0], found, words):
            continue
        at, resource = match.tokens[0], _consumed(parse, match.tokens[-1], words)
        found = [
            (t, m)
            for t, m in found
            if t is tool or not ((m.role == "state" and at in m.tokens) or set(m.tokens) <= resource)
        ]
        stretched = Match(match.words, match.role, (*match.tokens, *sorted(resource)))
        found = [(t, stretched if m is match else m) for t, m in found]
    return found


def _agent_subject(parse: Parse, at: int, found: Found, words: ToolWords) -> bool:
    """The verb is a third person's ('eating', 'hogs', 'ate': not 'could you grab') and the word
    before it (auxiliaries skipped) asks for or names a consumer: a question word, an indefinite
    ('something'), or a name that is no host, pronoun, resource or everyday word."""
    position = parse.position(at)
    if not _third_person(parse.tokens[position].low):
        return False
    position -= 1
    while position >= 0 and parse.tokens[position].low in _BETWEEN:
        position -= 1
    if position < 0:
        return False
    subject = parse.tokens[position]
    if subject.low in QUESTION_WORDS | INDEFINITES:
        return subject.low != "how"  # 'how is memory eating up so fast': no consumer asked
    if subject.kind != "word" or subject.index in parse.claimed or subject.low in _CLOSED:
        return False
    return not any(subject.index in m.tokens for _, m in found) and stem(subject.low) not in words.starts


def _third_person(verb: str) -> bool:
    gerund = verb.endswith("ing") and len(verb) > 4  # 'using'
    return gerund or is_past(verb) or (verb.endswith("s") and not verb.endswith("ss"))


def _consumed(parse: Parse, verb: int, words: ToolWords) -> set[int]:
    """The words after the verb naming what it consumes, up to where the hosts are written."""
    taken: set[int] = set()
    for token in parse.tokens[parse.position(verb) + 1 :]:
        if token.low in _OBJECT_END or token.index in parse.claimed or token.kind != "word":
            break
        if token.low not in _OBJECT_GLUE and not _resource(token, words):
            break
        taken.add(token.index)
    return taken


def _resource(token: Token, words: ToolWords) -> bool:
    """A word some tool declares as a value ('cpu', 'memory', 'disk'), or a free word after one
    ('disk io')."""
    declared = any(entry[2] == "value" for entry in words.starts.get(stem(token.low), []))
    return declared or token.low in _RESOURCES
