"""How people ask for a schedule in chat: the cadence, where to post, and whether only on change.

    "every 5 minutes ping the prod db servers and tell #ops if one goes down"
        -> request "ping the prod db servers", every 300 s, post to #ops, on state change
    "check disk on all web servers every morning at 7 and post it here"
        -> request "check disk on all web servers", cron "0 7 * * *", post here, every run

The words are data (the tables below); what remains of the sentence is planned like any
request, so the tool is chosen from the catalog's own declarations, never named here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pipeline.schedules import Cadence, Notify

NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10,
    "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty-five": 45, "sixty": 60,
}  # fmt: skip
UNITS = {
    "second": 1, "sec": 1, "s": 1, "minute": 60, "min": 60, "m": 60, "hour": 3600, "hr": 3600, "h": 3600,
    "day": 86400, "d": 86400, "week": 604800,
}  # fmt: skip
ADVERBS = {"hourly": 3600, "daily": 86400, "nightly": 86400, "weekly": 604800}
DAYPARTS = {"morning": 7, "evening": 18, "night": 0, "day": 9, "afternoon": 14, "noon": 12, "midnight": 0}
WEEKDAYS = {
    "monday": "1", "tuesday": "2", "wednesday": "3", "thursday": "4", "friday": "5",
    "saturday": "6", "sunday": "0", "weekday": "1-5", "workday": "1-5", "weekend": "0,6",
}  # fmt: skip
TELL_VERBS = "tell|notify|alert|warn|message|inform|page"
POST_VERBS = "post|send|report|share|put|drop|write"
OBJECTS = r"(?:it|them|that|this|the\s+results?|results?|the\s+output|a\s+summary)"
CONDITIONS = (
    r"(?:if|when|whenever|once|as\s+soon\s+as)\s+.*"  # 'if one goes down', 'when it changes'
    r"|only\s+(?:on|when|if)\s+.*"  # 'only on change'
)
ALWAYS = r"(?:each|every)\s+time|after\s+every\s+run|always"

_NUMBER = r"(\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + ")"
_UNIT = r"(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")s?"
_CLOCK = r"(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?:\s*utc)?"
_DAY = r"(" + "|".join(sorted(list(DAYPARTS) + list(WEEKDAYS), key=len, reverse=True)) + r")s?"
_CHANNEL = r"(#[\w.-]+|<#\w+(?:\|[^>]*)?>)"

INTERVAL = re.compile(rf"\b(?:every|each)\s+(?:{_NUMBER}\s*)?{_UNIT}\b", re.IGNORECASE)
ADVERB = re.compile(r"\b(" + "|".join(ADVERBS) + r")\b", re.IGNORECASE)
DAILY_AT = re.compile(rf"\b(?:every|each)\s+{_DAY}(?:\s+at\s+{_CLOCK})?", re.IGNORECASE)
AT_DAILY = re.compile(rf"\bat\s+{_CLOCK}\s+(?:every|each)\s+{_DAY}", re.IGNORECASE)
TELL = re.compile(rf"\b(?:and\s+)?(?:{TELL_VERBS})\s+{_CHANNEL}", re.IGNORECASE)
LET_KNOW = re.compile(rf"\b(?:and\s+)?let\s+{_CHANNEL}\s+know\b", re.IGNORECASE)
POST = re.compile(
    rf"\b(?:and\s+)?(?:{POST_VERBS})\s+(?:{OBJECTS}\s+)?(?:(?:to|in|into)\s+{_CHANNEL}|(here|in\s+this\s+channel))",
    re.IGNORECASE,
)
CONDITION = re.compile(rf"(?:,\s*|\s+)(?:but\s+)?(?:{CONDITIONS})$", re.IGNORECASE)
ALWAYS_WORDS = re.compile(rf"(?:,\s*|\s+)(?:{ALWAYS})\b", re.IGNORECASE)


@dataclass(frozen=True)
class ScheduleRequest:
    """A chat request that asks for a schedule: what to run, when, where to post, how often to post."""

    text: str  # the request itself, without the schedule's words
    cadence: Cadence
    channel: str | None  # '#ops', a Slack channel id, or None: here
    notify: Notify


def read_schedule(text: str) -> ScheduleRequest | None:
    """The schedule a sentence asks for, or None when it names no cadence."""
    found = _cadence(text)
    if found is None:
        return None
    cadence, rest = found
    channel, told, rest = _destination(rest)
    notify: Notify = "always" if told else "change"
    condition = CONDITION.search(rest)
    if condition is not None:
        notify, rest = "change", rest[: condition.start()]
    always = ALWAYS_WORDS.search(rest)
    if always is not None:
        notify, rest = "always", rest[: always.start()] + rest[always.end() :]
    request = _tidy(rest)
    return ScheduleRequest(request, cadence, channel, notify) if request else None


def _cadence(text: str) -> tuple[Cadence, str] | None:
    for pattern in (AT_DAILY, DAILY_AT):
        match = pattern.search(text)
        if match is not None:
            groups = match.groups()
            clock, day = (groups[:3], groups[3]) if pattern is AT_DAILY else (groups[1:], groups[0])
            return Cadence(cron=_cron(day.lower().rstrip("s") if day else "day", *clock)), _cut(text, match)
    match = INTERVAL.search(text)
    if match is not None:
        count = match.group(1)
        number = int(count) if count and count.isdigit() else NUMBERS.get((count or "one").lower(), 1)
        return Cadence(every_s=number * UNITS[match.group(2).lower()]), _cut(text, match)
    match = ADVERB.search(text)
    if match is not None:
        return Cadence(every_s=ADVERBS[match.group(1).lower()]), _cut(text, match)
    return None


def _cron(day: str, hour: str | None, minute: str | None, half: str | None) -> str:
    if day not in WEEKDAYS and day not in DAYPARTS:
        day = day.rstrip("s")
    h = int(hour) if hour is not None else DAYPARTS.get(day, 9)
    if half and half.lower().startswith("p") and h < 12:
        h += 12
    elif half and half.lower().startswith("a") and h == 12:
        h = 0
    if day in {"evening", "afternoon"} and hour is not None and h < 12:
        h += 12
    if not 0 <= h <= 23:
        raise ValueError(f"not an hour of the day: {hour}")
    return f"{int(minute or 0)} {h} * * {WEEKDAYS.get(day, '*')}"


def _destination(text: str) -> tuple[str | None, bool, str]:
    """(channel or None for here, whether the sentence asked to be told, the text without it)."""
    for pattern in (TELL, LET_KNOW, POST):
        match = pattern.search(text)
        if match is not None:
            channel = next((g for g in match.groups() if g and g.startswith(("#", "<#"))), None)
            return _channel(channel), True, _cut(text, match)
    return None, False, text


def _channel(raw: str | None) -> str | None:
    if raw is None:
        return None
    mention = re.fullmatch(r"<#(\w+)(?:\|[^>]*)?>", raw)
    return mention.group(1) if mention else raw


def _cut(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " + text[match.end() :]


def _tidy(text: str) -> str:
    words = re.sub(r"\s+", " ", text).strip(" ,.;:")
    words = re.sub(r"^(?:please\s+|and\s+|then\s+)+", "", words, flags=re.IGNORECASE)
    words = re.sub(r"(?:\s+and|\s+then|,)+$", "", words, flags=re.IGNORECASE)
    return words.strip(" ,.;:")


# --------------------------------------------------------------------------- managing schedules
# "list my schedules", "pause the disk check schedule", "resume schedule 3", "delete the nightly
# ping": a managing verb first, then which schedule (its number, its id, or words of its request,
# name and cadence). Verbs that are also a tool's action ("stop", "remove") only manage a schedule
# when the sentence says "schedule", or points at one by its cadence ("the nightly ping", never
# "every night": that asks for a new schedule) and exactly one schedule matches.

ScheduleAct = Literal["list", "paused", "active", "deleted", "approved"]
MANAGE_VERBS: dict[ScheduleAct, tuple[str, ...]] = {
    "paused": ("pause", "suspend", "disable", "mute", "hold", "stop", "halt"),
    "active": ("resume", "unpause", "unmute", "reactivate", "re-enable", "enable", "restore"),
    "deleted": ("delete", "remove", "drop", "cancel", "kill", "get rid of"),
    "approved": ("approve",),
}
LIST_VERBS = ("list", "show me", "show", "display", "what are", "which are", "give me", "see")
POLITE = re.compile(r"^(?:(?:please|kindly|(?:can|could|would)\s+you|go\s+ahead\s+and)\s+)+")
SCHEDULE_NOUN = re.compile(r"\bschedul(?:e|es|ed)\b|\bjobs?\b", re.IGNORECASE)
FILLER = frozenset({"the", "my", "our", "a", "an", "this", "that", "please", "one", "for", "me", "now"})
POINTING = frozenset({"the", "my", "our", "this", "that"})  # "the nightly ping": an existing one
MINE = frozenset({"my", "mine", "i"})
CADENCE_WORDS = frozenset({"hourly", *ADVERBS, *DAYPARTS, *WEEKDAYS, *(f"{d}s" for d in WEEKDAYS)})
RECURRING = frozenset({"every", "each"})  # "... every night": a new schedule is asked for
_NUMBERED = re.compile(r"(?:\bschedules?\s*|#|\bnumber\s*|\bno\.?\s*)(\d+)\b|^(\d+)$", re.IGNORECASE)
_LISTING = re.compile(
    r"^(?:please\s+)?(?:(?:" + "|".join(LIST_VERBS) + r")\s+)?(?:(all|my|our|the)\s+)?"
    r"(?:active\s+|paused\s+|current\s+)?(?:schedules|scheduled\s+(?:jobs|checks|runs))(?:\s+(?:do\s+)?i\s+have)?$"
    r"|^what(?:'s|\s+is)\s+scheduled(?:\s+for\s+me)?$"
    r"|^(?:what|which)\s+schedules\b.*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ScheduleCommand:
    """A chat request about existing schedules: the act, and which schedule it is about."""

    act: ScheduleAct
    words: tuple[str, ...] = ()  # the reference's words ("disk", "check"), fillers dropped
    number: int | None = None  # "schedule 3"
    mine: bool = False  # "my schedules": only the asker's
    named: bool = False  # the sentence says "schedule": about schedules, whatever matches
    timed: bool = False  # the reference names a cadence ("the nightly ping")


def read_schedule_command(text: str) -> ScheduleCommand | None:
    """The schedule management a sentence asks for, or None when it asks for something else."""
    plain = POLITE.sub("", re.sub(r"\s+", " ", text).strip(" .!?").lower())
    listing = _LISTING.match(plain)
    if listing is not None:
        return ScheduleCommand("list", mine=bool(listing.group(1) == "my" or " i " in f" {plain} "))
    for act, verbs in MANAGE_VERBS.items():
        for verb in verbs:
            if plain.startswith(verb + " "):
                return _command(act, plain[len(verb) + 1 :])
    return None


def _command(act: ScheduleAct, rest: str) -> ScheduleCommand | None:
    named = SCHEDULE_NOUN.search(rest) is not None
    numbered = _NUMBERED.search(rest)
    number = int(numbered.group(1) or numbered.group(2)) if numbered else None
    words = tuple(
        w
        for w in re.findall(r"[\w.-]+", SCHEDULE_NOUN.sub(" ", rest))
        if w not in FILLER and w != str(number)
    )
    pointing = rest.split(" ", 1)[0] in POINTING
    timed = pointing and any(w in CADENCE_WORDS for w in words) and not RECURRING & set(words)
    if not (named or timed):
        return None
    mine = any(w in MINE for w in re.findall(r"\w+", rest))
    return ScheduleCommand(act, words, number, mine, named, timed)


def schedule_words(name: str, text: str, cadence: Cadence) -> frozenset[str]:
    """The words a person may use for a schedule: its name's, its request's and its cadence's."""
    words = set(re.findall(r"[\w.-]+", f"{name} {text} {cadence.describe()}".lower()))
    if cadence.every_s is not None:
        words.update(w for w, s in ADVERBS.items() if s == cadence.every_s)
        words.update({3600: {"hour"}, 86400: {"day", "night"}, 604800: {"week"}}.get(cadence.every_s, set()))
    elif cadence.cron is not None:
        _minute, hour, _dom, _month, weekday = cadence.cron.split()
        if weekday == "*":
            words.update({"daily", "day"})
        words.update(w for w, d in WEEKDAYS.items() if d == weekday)
        if hour.isdigit():
            words.update(_dayparts(int(hour)))
    return frozenset(words)


def _dayparts(hour: int) -> set[str]:
    if hour < 5 or hour >= 20:
        return {"nightly", "night", "midnight"} if hour == 0 else {"nightly", "night"}
    if hour < 12:
        return {"morning"}
    return {"afternoon"} if hour < 18 else {"evening"}


def mentions(reference: tuple[str, ...], words: frozenset[str]) -> bool:
    """Every word of the reference is one of the schedule's (a plural or -ing form counts)."""
    return all(any(_same(r, w) for w in words) for r in reference)


def _same(said: str, word: str) -> bool:
    if said == word:
        return True
    short, long = sorted((said, word), key=len)
    return len(short) >= 4 and long.startswith(short) and len(long) - len(short) <= 3
