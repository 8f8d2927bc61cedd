"""General English the understanding layer reads by: word stems, verb forms, glue words.

Nothing here names a tool. Stems let a declared word match its inflections ('restart' matches
'restarts', 'restarting', 'restarted'; 'process' matches 'processes'); verb forms tell an
order ('restart it') from a report or a question about the past ('was it restarted?').
"""

from __future__ import annotations

import functools

from pipeline.nlu.lexicon import vocab

# Irregular forms met in operations talk: form -> base.
_IRREGULAR = {
    "ran": "run",
    "shut": "shut",
    "went": "go",
    "gone": "go",
    "broke": "break",
    "broken": "break",
    "brought": "bring",
    "took": "take",
    "taken": "take",
    "died": "die",
    "dying": "die",
    "dead": "die",
    "began": "begin",
    "begun": "begin",
    "hung": "hang",
    "stuck": "stick",
    "kept": "keep",
    "did": "do",
    "done": "do",
    "does": "do",
    "was": "be",
    "were": "be",
    "been": "be",
    "is": "be",
    "are": "be",
    "am": "be",
}
_PAST_IRREGULAR = frozenset(
    {"ran", "went", "gone", "broke", "broken", "brought", "took", "taken", "died", "began", "begun", "hung"}
)


@functools.lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """A crude stem, the same for a word's inflections: restart(s|ed|ing) -> restart; and for its
    hyphenations: clean-up, cleanup."""
    low = word.lower()
    if "-" in low and low.replace("-", "").isalpha():
        low = low.replace("-", "")
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if len(low) <= 3 or not low.isalpha():
        return low
    for suffix in ("ing", "ed"):
        if low.endswith(suffix) and len(low) - len(suffix) >= 3:
            base = low[: -len(suffix)]
            if base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # stopping -> stop, tagged -> tag
            return _strip_e(base)
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if low.endswith(("shes", "ches", "xes", "sses")):
        return low[:-2]
    if low.endswith("s") and not low.endswith(("ss", "us", "is", "os")):
        low = low[:-1]
    return _strip_e(low)


def _strip_e(word: str) -> str:
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def is_past(word: str) -> bool:
    """'restarted', 'rebooted', 'ran', 'broke': a past tense or participle form."""
    low = word.lower()
    return low in _PAST_IRREGULAR or (low.endswith("ed") and len(low) > 4)


def is_gerund(word: str) -> bool:
    return word.lower().endswith("ing") and len(word) > 5


# Words that carry no request of their own: politeness, addressing, discourse markers.
DISCOURSE = vocab(
    """
    please pls plz kindly hey hi hello yo ok okay alright right so now just then also and but well
    quickly quick fyi btw hmm um uh ah oh thanks thx cheers bot opsconductor ops actually really
    go ahead asap again simply anyway oops whoops sorry meant
    """
)
SUBJECTS = vocab("i we you someone somebody anyone anybody everyone they he she one")
MODALS = vocab("can could would will shall should may might must")
AUXILIARIES = vocab("is are was were be been being am has have had do does did")
STATE_VERBS = vocab(
    """
    keeps keep kept seems seem looks look appears appear went goes died dies crashed crashes hung stuck
    refuses refused fails failed won't wont doesn't didn't isn't wasn't can't cannot couldn't still
    tried tries stopped stops
    """
)
REPORT_WORDS = vocab(
    "failed fails failing broke broken hung stuck crashed timed errored error errors erroring loop looping"
)
# Verbs a statement of how things are turns on ('/var is full', 'nginx keeps crashing').
COPULAS = vocab("is are was were keeps keep seems seem looks look appears has have had isn't aren't won't")
# Linking verbs: 'api-02 looks unreachable', 'it seems like db-01 is down'. Followed by what they
# link (a state, 'like', 'to be'), they only hedge the report; the state is the word after them.
LINKING_VERBS = vocab("look looks looked seem seems seemed appear appears appeared sound sounds feel feels")
HEDGE_LINKS = vocab("like to as")
# Numbers written as words ("ping it three times", "the two core switches").
CARDINALS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "dozen": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "hundred": 100,
}
# Indefinite pronouns: a subject nobody names yet ('something is eating memory').
INDEFINITES = vocab("something anything someone somebody anyone anybody whatever whoever")
QUESTION_WORDS = vocab("what which who whom whose where when why how whether")
# '... a reboot' after these is an order ('do a reboot', 'give it a restart', 'schedule a reboot').
ORDERING_VERBS = vocab(
    "do give perform trigger issue run schedule kick start need want initiate fire call hit send use "
    "execute launch invoke apply"
)
# Words that make a question about a change a request for advice ('is a reboot a good idea?').
ADVICE_WORDS = vocab(
    "should shall ought idea wise safe worth advisable recommend recommended better help helps necessary "
    "needed required okay ok fine fix"
)
HYPOTHETICAL_WORDS = vocab("hypothetically suppose supposing imagine assuming theoretically")
PAST_MARKERS = vocab(
    "yesterday earlier ago last week weekend tonight overnight morning night today recently already lately"
)
