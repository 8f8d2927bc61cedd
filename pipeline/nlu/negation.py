"""What the user says *not* to do: negated actions are never planned.

"don't reboot web-02, just ping it" -> the reboot is dropped, "just ping it" remains
(its "it" still means web-02). "never mind, ..." cancels everything written before it.
A negation counts only when an action follows the cue ("don't know why" is no negation),
and a statement ("nginx is not running") is never read as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.nlu.english import AUXILIARIES, MODALS, QUESTION_WORDS, stem
from pipeline.nlu.lexicon import COMMON, FILLER, GENERAL_VERBS, SERVICE_ALIASES, WELL_KNOWN_SERVICES, vocab
from pipeline.nlu.tokens import Token

# Cues, longest first. "not"/"never" count only at the start of what they negate (see _cue_at).
_CUES: tuple[tuple[str, ...], ...] = (
    ("should", "not"),
    ("must", "not"),
    ("need", "not"),
    ("let's", "not"),
    ("lets", "not"),
    ("shouldn't",),
    ("mustn't",),
    ("needn't",),
    ("hold", "off", "on"),
    ("hold", "off", "with"),
    ("hold", "off"),
    ("put", "off"),
    ("forget", "about"),
    ("postpone",),
    ("skip",),
    ("no", "need", "to"),
    ("no", "need", "for"),
    ("refrain", "from"),
    ("instead", "of"),
    ("rather", "than"),
    ("do", "not"),
    ("does", "not"),
    ("don't",),
    ("dont",),
    ("never",),
    ("not",),
    ("without",),
    ("avoid",),
    ("no",),
)
_CANCELS: tuple[tuple[str, ...], ...] = (
    ("no", ","),  # "reboot web-03? no, just restart nginx there"
    ("nope",),
    ("no", "wait"),
    ("wait", "no"),
    ("never", "mind"),
    ("nevermind",),
    ("nvm",),
    ("scratch", "that"),
    ("cancel", "that"),
    ("forget", "it"),
    ("forget", "that"),
    ("ignore", "that"),
    ("disregard", "that"),
    ("belay", "that"),
    ("hold", "on"),
    ("nah",),
    ("on", "second", "thought"),
    ("on", "second", "thoughts"),
)
# Words allowed between the cue and the negated verb ("don't you dare even try to reboot").
_BRIDGE = vocab(
    "to you u even ever bother go the a an any please try trying want need dare yet actually of"
    " asking ask telling requesting suggesting saying"  # "I'm not asking you to reboot anything"
)
# A negation with nothing after it ("..., no wait, don't") takes back what came before.
_BARE = frozenset(
    {
        ("don't",),
        ("dont",),
        ("do", "not"),
        ("do", "n't"),
        ("not", "yet"),
        ("don't", "do"),
        ("do", "not", "do"),
    }
)
# Words after which "not"/"never" still negate a request ("please never reboot", "but not restart").
_OPENERS = vocab("please pls but and so just , ; . : i we i'm im we're am")
# Words that end a negated stretch and start what the user does want.
_POSITIVE = vocab("just only but instead rather simply merely however")
_GENERAL_ACTIONS = frozenset(
    stem(w) for w in GENERAL_VERBS | vocab("do touch change modify redeploy anything")
)
_STATUS = vocab("status running up down alive healthy active state check working ok fine")


@dataclass(frozen=True)
class Words:
    """The words negation reads by: action verbs (the catalog's and general ones) and objects."""

    actions: frozenset[str]  # stems
    objects: frozenset[str]  # services and value words ('but not redis', 'but not memory')
    nouns: frozenset[str] = frozenset()  # stems of actions that are also nouns ('no reboots')

    @classmethod
    def of(cls, verbs: frozenset[str], values: frozenset[str]) -> Words:
        actions = frozenset(stem(v) for v in verbs) | _GENERAL_ACTIONS
        known = WELL_KNOWN_SERVICES | frozenset(SERVICE_ALIASES) | (values - COMMON - FILLER)
        return cls(actions, known, frozenset(stem(v) for v in verbs) | {"downtime"})


@dataclass
class Negation:
    """A clause split into what is wanted and what was negated or cancelled."""

    positive: list[Token]
    negated: list[Token] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)  # the negated verbs as written

    @property
    def found(self) -> bool:
        return bool(self.verbs)


def cancel(clauses: list[list[Token]]) -> tuple[list[list[Token]], list[Token]]:
    """Drop everything before the last 'never mind' / 'scratch that'; returns (kept, dropped)."""
    last: tuple[int, int, int] | None = None
    for c, tokens in enumerate(clauses):
        lows = [t.low for t in tokens]
        for i in range(len(lows)):
            for phrase in _CANCELS:
                if tuple(lows[i : i + len(phrase)]) == phrase:
                    last = (c, i, len(phrase))
    kept, dropped = _take_back(clauses)  # "..., actually no, don't": only the last request
    if last is None or dropped:
        return kept, dropped
    c, i, width = last
    dropped = [t for tokens in clauses[:c] for t in tokens] + clauses[c][:i]
    kept = [clauses[c][i + width :], *clauses[c + 1 :]]
    return [k for k in kept if k], dropped


def _take_back(clauses: list[list[Token]]) -> tuple[list[list[Token]], list[Token]]:
    """'check nginx on web-01, then restart it. actually no, don't': a bare negation at the very
    end takes back the request just before it (its own clause, or the previous one)."""
    if not clauses:
        return clauses, []
    last = clauses[-1]
    words = [t.low for t in last if t.kind == "word" and t.low not in _TAIL_FILLER]
    bare = next((b for b in _BARE if tuple(words[-len(b) :]) == b), None)
    if bare is None or (len(words) == len(bare) and len(clauses) == 1):
        return clauses, []
    if len(words) > len(bare):  # "reboot web-01, don't": the same clause
        return clauses[:-1], last
    return clauses[:-2], [t for c in clauses[-2:] for t in c]


_TAIL_FILLER = vocab("please pls actually then it that anymore after all no oh ok okay hmm sorry wait")


def split(tokens: list[Token], words: Words) -> Negation:
    """Separate negated stretches ('don't reboot web-02') from the rest of one clause."""
    result = Negation(positive=[])
    i = 0
    while i < len(tokens):
        found = _cue_at(tokens, i, words)
        if found is None:
            result.positive.append(tokens[i])
            i += 1
            continue
        width, verb = found
        end = _scope_end(tokens, i + width, words)
        result.negated.extend(tokens[i:end])
        result.verbs.append(verb)
        i = end
    return result


def only_glue(tokens: list[Token]) -> bool:
    """Nothing left to do: punctuation, filler and glue words only ('never mind,', 'just')."""
    glue = (
        FILLER | COMMON | _POSITIVE | vocab("instead anyway okay ok fine said told asked say mean meant wait")
    )
    return all(t.kind == "punct" or (t.kind == "word" and t.low in glue) for t in tokens)


def has_task(tokens: list[Token], words: Words) -> bool:
    """Some verb or state word the wanted part asks for ('check the status', 'show uptime')."""
    return any(t.kind == "word" and (stem(t.low) in words.actions or t.low in _STATUS) for t in tokens)


def objects(tokens: list[Token], words: Words) -> list[Token]:
    """The negated stretch without its cue and verbs: what it was about (hosts, services)."""
    cue_words = {w for cue in _CUES for w in cue}
    return [
        t
        for t in tokens
        if not (t.kind == "word" and (t.low in cue_words or stem(t.low) in words.actions or t.low in _BRIDGE))
    ]


def _cue_at(tokens: list[Token], i: int, words: Words) -> tuple[int, str] | None:
    lows = [t.low for t in tokens]
    for cue in _CUES:
        if tuple(lows[i : i + len(cue)]) != cue:
            continue
        if cue in {("not",), ("never",), ("no",)} and i and lows[i - 1] not in _OPENERS:
            return None  # "nginx is not running", "web-01 never came back": statements
        if cue[0] in {"don't", "dont", "do"} and i and lows[i - 1] in {"why", "how"}:
            return None  # "why don't you restart it": a suggestion
        strong = cue not in {("not",), ("no",), ("without",), ("avoid",), ("skip",)}
        verb = _verb_after(tokens, i + len(cue), words, nouns=cue == ("no",), reach=4 if strong else 0)
        if not verb and cue in {("not",), ("and", "not")} and _object_follows(tokens, i + len(cue), words):
            return len(cue), "do that"  # "restart nginx on web-01 but not redis on cache-01"
        return (len(cue), verb) if verb else None
    return None


def _verb_after(tokens: list[Token], start: int, words: Words, *, nouns: bool, reach: int = 1) -> str:
    """The negated verb: next to the cue, or within `reach` words for strong cues
    ('do NOT under any circumstances restart', 'don't think we need to restart')."""
    skipped = 0
    for token in tokens[start:]:
        if token.kind != "word":
            return ""
        if nouns:
            return token.text if stem(token.low) in words.nouns else ""
        if token.low in {"forget", "hesitate", "know", "see", "understand", "mind", "worry", "care"}:
            return ""  # "don't forget to notify #ops": no negation
        if stem(token.low) in words.actions:
            return token.text
        if token.low not in _BRIDGE:
            skipped += 1
            if skipped > reach or re.search(r"\d", token.low):
                return ""
    return ""


def _asks(token: Token) -> bool:
    """A question word, modal or auxiliary opening what follows ('what's', 'can you', 'is it up')."""
    head = token.low.split("'")[0]
    return token.kind == "word" and (head in QUESTION_WORDS or token.low in MODALS | AUXILIARIES)


def _object_follows(tokens: list[Token], start: int, words: Words) -> bool:
    """A service or fact after 'but not' is a negated object; hosts alone are an exclusion."""
    for token in tokens[start : start + 3]:
        if token.kind != "word":
            return False
        if token.low in words.objects or stem(token.low) in words.objects:
            return True
    return False


def _scope_end(tokens: list[Token], start: int, words: Words) -> int:
    """The negated stretch ends where the wanted part starts ('just ping it', ', ping it')."""
    for j in range(start, len(tokens)):
        token = tokens[j]
        if token.kind == "word" and token.low in _POSITIVE and j > start:
            return j
        if token.kind == "punct" and token.text in ",;.:!?-":
            following = next((t for t in tokens[j + 1 :] if t.low not in FILLER - {"just"}), None)
            if following is None or following.low in _POSITIVE or stem(following.low) in words.actions:
                return j
            if _asks(following):  # "no reboot please - what's the memory like?": a question starts
                return j
    return len(tokens)
