"""Sizes as people write them: '4096 bytes', '2 KB', '2kb', '1 MiB', '1.5 MB', '10 gigabytes'.

`sizes(words)` finds each size in a clause's words and returns its span and bytes; whichever
argument takes a size (a byte cap) reads it from there. Units are binary (1 KB = 1024 bytes), as
`head -c 2K` and most operations tools read them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.nlu.durations import scan

_UNITS = {
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "kilobyte": 1024,
    "kilobytes": 1024,
    "mb": 1024**2,
    "mib": 1024**2,
    "megabyte": 1024**2,
    "megabytes": 1024**2,
    "meg": 1024**2,
    "megs": 1024**2,
    "gb": 1024**3,
    "gib": 1024**3,
    "gigabyte": 1024**3,
    "gigabytes": 1024**3,
}
_COMPACT = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")
_SPACED_ONLY = frozenset({"b", "k"})  # '2 k' is no size; '2k', '512b' are


@dataclass(frozen=True)
class Size:
    start: int  # word positions [start, end)
    end: int
    bytes: int


def sizes(words: Sequence[str]) -> list[Size]:
    """Every size written in `words` (lowercased), left to right, without overlaps."""
    return scan(words, _at)


def _at(words: Sequence[str], i: int) -> Size | None:
    compact = _COMPACT.match(words[i])
    if compact and compact.group(2) in _UNITS:
        return Size(i, i + 1, round(float(compact.group(1)) * _UNITS[compact.group(2)]))
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if re.fullmatch(r"\d+(?:\.\d+)?", words[i]) and nxt in _UNITS and nxt not in _SPACED_ONLY:
        return Size(i, i + 2, round(float(words[i]) * _UNITS[nxt]))
    return None
