"""Durations as people write them: '90s', '10 min', '2m30s', '1.5 minutes', 'an hour', 'half a minute'.

`durations(words)` finds each duration in a clause's words and returns its span and seconds;
whichever argument takes a duration (a timeout, a wait) reads it from there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pipeline.nlu.english import CARDINALS

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_COMPACT = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|hr|hrs|hours?))?(?:(\d+(?:\.\d+)?)(m|min|mins|minutes?))?"
                      r"(?:(\d+(?:\.\d+)?)(s|sec|secs|seconds?))?$")  # fmt: skip
_NUMBER_WORDS = {
    **{w: float(n) for w, n in CARDINALS.items()},
    "a": 1.0,
    "an": 1.0,
    "couple": 2.0,
    "few": 3.0,
}
_LONE_UNITS = frozenset({"minute", "hour", "day"})  # "an hour", "a minute" (but "a sec" is a moment)


@dataclass(frozen=True)
class Duration:
    start: int  # word positions [start, end)
    end: int
    seconds: float


class _Span(Protocol):
    @property
    def end(self) -> int: ...


_S = TypeVar("_S", bound=_Span)


def scan(words: Sequence[str], at: Callable[[Sequence[str], int], _S | None]) -> list[_S]:
    """Every span `at` finds in `words`, left to right, without overlaps (durations, sizes)."""
    found: list[_S] = []
    i = 0
    while i < len(words):
        hit = at(words, i)
        if hit is None:
            i += 1
            continue
        found.append(hit)
        i = hit.end
    return found


def durations(words: Sequence[str]) -> list[Duration]:
    """Every duration written in `words` (lowercased), left to right, without overlaps."""
    return scan(words, _at)


def _at(words: Sequence[str], i: int) -> Duration | None:
    word = words[i]
    compact = _compact(word)
    if compact is not None:
        return Duration(i, i + 1, compact)
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if word == "half" and nxt in {"a", "an"} and i + 2 < len(words) and words[i + 2] in _UNITS:
        return Duration(i, i + 3, 0.5 * _UNITS[words[i + 2]])  # 'half a minute', 'half an hour'
    amount = _amount(word)
    if amount is None or nxt not in _UNITS or (nxt in {"m", "s", "h", "d"} and not word[0].isdigit()):
        return None
    seconds = amount * _UNITS[nxt]
    end = i + 2
    if word in {"a", "an"} and nxt not in _LONE_UNITS:
        return None
    if list(words[end : end + 3]) in (["and", "a", "half"], ["and", "an", "half"]):
        return Duration(i, end + 3, seconds + 0.5 * _UNITS[nxt])  # 'an hour and a half'
    return Duration(i, end, seconds)


def _compact(word: str) -> float | None:
    """'90s', '2min', '1h', '2m30s', '1.5h', '120-second'."""
    word = word.replace("-", "")
    if not word or not word[0].isdigit() or word.isdigit():
        return None
    match = _COMPACT.match(word)
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = match.group(1), match.group(3), match.group(5)
    return float(hours or 0) * 3600 + float(minutes or 0) * 60 + float(seconds or 0)


def _amount(word: str) -> float | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return float(word)
    return _NUMBER_WORDS.get(word)
