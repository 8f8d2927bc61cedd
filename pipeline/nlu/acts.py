"""Speech acts: is a clause about a change an order, or talk about the change?

Only an order may produce a change. A question, a report, a hypothetical, a request for advice
or a question about the past gets the change's matching read instead (and the change as a
suggestion the person can send). Decided from general English around the change word:

    order         restart nginx on web-01 | can you bounce it? | I need prometheus stopped
                  | let's get win-stg-01 rebooted | it'd be great if you could stop nginx
    question      is nginx restarting? | why does nginx keep restarting?
    report        nginx keeps stopping on web-03 | the reboot of web-02 failed
    advice        should I restart redis? | is a reboot a good idea for db-01?
    hypothetical  what happens if I reboot db-02? | would restarting it lose messages?
    past          did anyone restart postgres? | was web-01 rebooted last night? | who restarted it?
                  | we bounced redis earlier, is it back?
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence

from pipeline.nlu.english import (
    ADVICE_WORDS,
    AUXILIARIES,
    DISCOURSE,
    HYPOTHETICAL_WORDS,
    MODALS,
    ORDERING_VERBS,
    REPORT_WORDS,
    STATE_VERBS,
    SUBJECTS,
    is_gerund,
    is_past,
)
from pipeline.nlu.lexicon import vocab


class Act(enum.StrEnum):
    ORDER = "order"
    QUESTION = "question"
    REPORT = "report"
    ADVICE = "advice"
    HYPOTHETICAL = "hypothetical"
    PAST = "past"


_ARTICLES = vocab("a an the that this another any")
_PLACES = vocab("on at in for from across to of")
_CAUSATIVE = vocab("need needs want wants get got have let's lets let")
_POLITE = vocab(
    "you u someone somebody anyone can could would will mind please pls kindly i i'd we we'd need want "
    "like to go ahead and let's lets let us time just now ok okay then also alright so now quickly asap "
    "how about why not don't dont it'd it'll would be great nice if could good able"
)
_ASKING_PAST = vocab("did who whom when has have had was were")
_WH = vocab("what which how why where")


def speech_act(words: Sequence[str], at: int, entities: frozenset[int] = frozenset()) -> Act:
    """The act of a clause whose change word is `words[at]` (words lowercased, in order).

    `entities`: positions of words that name hosts, services and other values; they say nothing
    about the act ('nginx restart on web-02 pls' is an order).
    """
    before = [
        w
        for i, w in enumerate(words[:at])
        if (w not in DISCOURSE or w == "and")
        and i not in entities
        and not (w in _PLACES and i + 1 in entities)
    ]
    if before[:2] in (["how", "about"], ["what", "about"], ["why", "not"], ["why", "don't"], ["why", "dont"]):
        before = before[2:]  # 'how about restarting it', 'why not restart it': a suggestion taken up
    after = list(words[at + 1 :])
    word = words[at]
    everything = set(words)
    if everything & HYPOTHETICAL_WORDS or _what_happens(before):
        return Act.HYPOTHETICAL
    if _advice(before, word, after, everything) or _permitted(list(words[:at])):
        return Act.ADVICE
    if _if_clause(before):
        return Act.HYPOTHETICAL
    if is_gerund(word) and _modal_around(before, after):
        return Act.HYPOTHETICAL  # 'would restarting it lose messages?', 'restarting it would fix it, right?'
    past = _past(before, word)
    if past is not None:
        return past
    if at and words[at - 1] in _ARTICLES and not is_past(word):  # 'a reboot', 'the restart'
        if set(after) & REPORT_WORDS:
            return Act.REPORT
        if everything & ADVICE_WORDS:
            return Act.ADVICE
        return Act.ORDER if _ordered_noun(words, at, entities) else Act.REPORT
    if before and before[0] in _WH and "you" not in before:
        return Act.QUESTION  # 'why is nginx restarting', 'how often does it reboot'
    if set(before) & STATE_VERBS or (before and before[-1] in AUXILIARIES and "you" not in before):
        return Act.REPORT  # 'nginx keeps stopping', 'web-01 won't start', 'is nginx restarting?'
    ordered = _imperative(before) and not _considered(before, after)
    return Act.ORDER if ordered or _asks_someone(before, word) else Act.REPORT


def third_person(word: str) -> bool:
    """'drops', 'reboots', 'crashes': a verb agreeing with a singular subject (never an imperative)."""
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is"))


_INTENT = vocab("want wants like need needs going gonna plan planning intend hope hoping")
_VAGUELY_LATER = vocab("later eventually sometime someday soon")


def _considered(before: list[str], after: list[str]) -> bool:
    """What may happen, asked of nobody: 'I might restart it', 'we may bounce it', and the
    speaker's own intention for some time later ('I'd like to bounce it at some point')."""
    if any(a in {"i", "we"} and b in {"might", "may"} for a, b in itertools.pairwise(before)):
        return True
    someday = bool(set(after) & _VAGUELY_LATER) or ("some", "point") in itertools.pairwise(after)
    first_person = bool(set(before) & {"i", "i'd", "we", "we'd", "i'm", "we're"})
    return someday and first_person and bool(set(before) & _INTENT)


def _what_happens(before: list[str]) -> bool:
    """'what happens if I ...', 'what would stopping X do', 'what if we ...'."""
    if "what" not in before:
        return False
    rest = before[before.index("what") + 1 :]
    return bool(rest) and rest[0] in {"happens", "happen", "would", "will", "if", "could", "might"}


def _advice(before: list[str], word: str, after: list[str], everything: set[str]) -> bool:
    """'should I restart it?', 'is a reboot a good idea?', 'do we need to restart it?', 'how do I ...'."""
    if {"should", "shall", "ought"} & set(before):
        return True
    if before[:2] in (["do", "we"], ["do", "i"]) and {"need", "have"} & set(before):
        return True
    if before[:1] == ["how"] and {"do", "can", "should"} & set(before[1:3]) and "you" not in before:
        return True  # 'how do I restart nginx?': how to ask for it, not an order
    if before[:2] in (["can", "i"], ["may", "i"], ["could", "i"]):
        return True  # asks leave: the change is offered, one click away
    idea = {"idea", "wise", "safe", "worth", "advisable", "recommend", "recommended"}
    if everything & idea:
        return True
    # 'would a reboot help api-01?'
    return "would" in before and not {"you", "u"} & set(before) and bool(set(after) & ADVICE_WORDS)


_VERDICTS = vocab("ok okay fine alright acceptable risky dangerous bad smart sensible normal")


def _permitted(before: list[str]) -> bool:
    """'is it ok to stop the spooler', 'would it be risky to bounce it': a verdict asked for;
    'what's the best way to restart it': a method."""
    if before[-1:] != ["to"]:
        return False
    return ("it" in before and bool(set(before) & _VERDICTS)) or bool(set(before) & {"way", "ways"})


def _if_clause(before: list[str]) -> bool:
    """'if I stopped kubelet ...', 'what happens if we ...' (but 'it'd be great if you could')."""
    if "if" not in before:
        return False
    rest = before[before.index("if") + 1 :]
    return not ({"you", "u", "someone", "somebody"} & set(rest) and set(rest) & MODALS)


def _modal_around(before: list[str], after: list[str]) -> bool:
    if {"you", "u"} & set(before):
        return False  # 'would you mind restarting it': an order
    return bool(before and before[-1] in {"would", "will", "could", "might", "can", "may"}) or bool(
        {"would", "could", "might"} & set(after)
    )


def _past(before: list[str], word: str) -> Act | None:
    """Questions and statements about what was done; causatives ('I need it stopped') are orders."""
    if "did" in before or (before[:1] and before[0] in {"who", "whom"}):
        return Act.PAST
    if not is_past(word):
        return None
    if before and before[-1] in SUBJECTS:
        return Act.PAST  # 'someone restarted nginx an hour ago', 'I rebooted db-01': narrated, done
    wanting = set(before) & {"need", "needs", "want", "wants", "let's", "lets", "let", "get", "got"}
    if wanting or (
        set(before) & _CAUSATIVE and not set(before) & {"has", "have", "had", "was", "were", "been"}
    ):
        return Act.ORDER  # 'I need prometheus stopped', "let's get win-stg-01 rebooted"
    if set(before) & _ASKING_PAST or not before or before[0] not in _POLITE:
        return Act.PAST  # 'was web-01 rebooted?', 'web-01 rebooted last night'
    return None


def _ordered_noun(words: Sequence[str], at: int, entities: frozenset[int]) -> bool:
    """'do a reboot of web-01', 'give nginx a restart', 'I need a reboot of web-01', 'kick off the
    ... runbook': the verb right before the article (hosts and services between them aside) asks
    for it."""
    before = [words[i] for i in range(at - 2, -1, -1) if i not in entities][:2]
    if before[:1] == ["off"]:
        before = before[1:]  # 'kick off the rolling restart runbook'
    return bool(before) and before[0] in ORDERING_VERBS and "would" not in words[:at]


_ADDRESSEES = vocab("you u someone somebody anyone anybody")
_AVAILABLE = vocab("around available free here able willing")


def _asks_someone(before: list[str], word: str) -> bool:
    """'is anyone around to restart postfix?', 'is someone able to bounce it': a request to whoever
    reads, with the change word in its base form ('is someone restarting it?' asks what happens)."""
    if not set(before) & _ADDRESSEES or is_gerund(word) or is_past(word):
        return False
    return all(w in _POLITE or w in MODALS or w in AUXILIARIES or w in _AVAILABLE for w in before)


def _imperative(before: list[str]) -> bool:
    """Nothing but politeness, addressing and request frames before the change word."""
    return all(w in _POLITE or w in MODALS for w in before)


def asks(words: Sequence[str]) -> bool:
    """The clause opens as a question ('should I restart it', 'would rebooting it help', 'is it up'),
    not as a statement ('before I reboot db-02', 'thinking about restarting nginx')."""
    first = next((w for w in words if w not in DISCOURSE), "")
    return first in _WH | _ASKING_PAST | AUXILIARIES | MODALS | {"who", "when", "whether"}
