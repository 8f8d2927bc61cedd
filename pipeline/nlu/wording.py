"""The words of a clause as the rules read them: typos corrected, idioms defused, unknowns listed."""

from __future__ import annotations

import functools

from pipeline.nlu.cues import ACTION_VERBS, VOCABULARY
from pipeline.nlu.entities import Clause
from pipeline.nlu.inventory import edit_distance, within_one

_LONG_VOCABULARY = tuple(sorted(v for v in VOCABULARY if len(v) >= 4))


@functools.lru_cache(maxsize=4096)
def correct(word: str) -> str:
    """Fix small typos in the planning vocabulary ('restrat', 'pign', 'uptiem')."""
    if word in VOCABULARY or len(word) < 4 or not word.isalpha():
        return word
    best = [v for v in _LONG_VOCABULARY if abs(len(v) - len(word)) <= 1 and within_one(word, v)]
    if len(best) > 1:  # typos rarely change the first letter: 'rstart' is restart, not start
        best = [v for v in best if v[0] == word[0]]
    if len(best) == 1 and (len(word) >= 5 or sorted(word) == sorted(best[0])):
        return best[0]
    return word


def words_of(clause: Clause) -> tuple[list[str], set[str]]:
    """The clause's words that no entity consumed (typos corrected): what the rules read."""
    ordered = [correct(t.low) for t in clause.tokens if t.kind == "word" and not t.used]
    for i, word in enumerate(ordered[1:], 1):
        if word == "up" and ordered[i - 1] in {"what", "whats", "what's", "wassup"}:
            ordered[i] = "_idiom"  # "what's up with ...": not a reachability question
        if word == "up" and ordered[i - 1] == "look":
            ordered[i] = "lookup"  # "look up who owns cache-01": a lookup, not "is it up"
    return ordered, set(ordered)


def unexplained(clause: Clause) -> list[str]:
    """Content words that no vocabulary, entity or slot accounts for ('weather', 'airport')."""
    from pipeline.nlu.lexicon import COMMON, FACT_WORDS, FILLER, HOST_NOUNS, PRONOUNS, QUANTIFIERS

    known = VOCABULARY | FILLER | COMMON | HOST_NOUNS | PRONOUNS | QUANTIFIERS | frozenset(FACT_WORDS)
    services = {s.lower() for s in clause.slots.services + clause.slots.weak_services}
    return [
        t.low
        for t in clause.tokens
        if t.kind == "word"
        and not t.used
        and t.low not in known
        and correct(t.low) not in known
        and t.low not in services
        and t.low not in clause.slots.port_names  # 'ssh', 'https': protocols are understood words
        and not t.low.isdigit()
    ]


def looks_like_action(word: str) -> bool:
    """A misspelt action verb the corrector could not place ('rbuut', 'restrt')."""
    if len(word) < 4 or not word.isalpha():
        return False
    limit = 2 if len(word) >= 6 else 1
    return any(edit_distance(word, verb, limit) <= limit for verb in ACTION_VERBS if len(verb) >= 5)
