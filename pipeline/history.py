"""Questions about the past, and the stored record that answers them.

    "how has latency to db-01 changed this week?"        trend      (a series per target + chart)
    "which ports opened on the web tier since yesterday?" ports      (open ports then and now)
    "when was nginx last restarted on web-02 and by whom?" last      (newest matching step)
    "what did I run yesterday?"                           runs       (the asker's requests)
    "did I restart anything today?"                       runs
    "show me the network path to the london servers"      paths      (stored traceroutes, merged)

The words are data (the tables below). Targets are read by the planner, the one place that
resolves hosts, from the same sentence. `HistoryStore` is the record (db.history), and
`ChartRenderer` draws a PNG (adapters.charts), off the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pipeline.contracts import InboundMessage, Principal, Reply
from pipeline.topology import PathGraph, Trace

Kind = Literal["latency", "loss", "open_ports", "disk", "service", "bandwidth"]
UNITS: dict[Kind, str] = {
    "latency": "ms",
    "loss": "%",
    "open_ports": "ports",
    "disk": "%",
    "service": "up",
    "bandwidth": "Mbit/s",
}
LABELS: dict[Kind, str] = {
    "latency": "latency",
    "loss": "packet loss",
    "open_ports": "open ports",
    "disk": "disk use",
    "service": "service state",
    "bandwidth": "throughput",
}


@dataclass(frozen=True)
class Sample:
    at: datetime
    value: float


@dataclass(frozen=True)
class PortChange:
    target: str
    before_at: datetime
    after_at: datetime
    opened: tuple[int, ...]
    closed: tuple[int, ...]


@dataclass(frozen=True)
class ActionRecord:
    tool: str
    target: str
    args: dict[str, object]
    by: str
    approved_by: str | None
    at: datetime
    execution_id: str
    request: str


@dataclass(frozen=True)
class RunRecord:
    at: datetime
    request: str
    status: str
    execution_id: str
    risk: str


class HistoryStore(Protocol):
    """The stored results, executions and audit, read back (db.history.SqlHistory)."""

    async def measurements(
        self, kind: Kind, targets: Sequence[str], since: datetime, until: datetime
    ) -> dict[str, list[Sample]]: ...

    async def port_changes(
        self, targets: Sequence[str], since: datetime, until: datetime
    ) -> list[PortChange]: ...

    async def last_action(
        self, args: Mapping[str, str], target: str | None, since: datetime, until: datetime
    ) -> ActionRecord | None: ...

    async def runs_by(self, principal: str, since: datetime, until: datetime) -> list[RunRecord]: ...

    async def throughput(
        self, hosts: Sequence[str], since: datetime, until: datetime
    ) -> dict[tuple[str, str], list[Sample]]:
        """Bandwidth samples per (source, target) pair with either end among `hosts`."""
        ...

    async def traceroutes(self, targets: Sequence[str], since: datetime, until: datetime) -> list[Trace]:
        """The newest stored traceroute of each target in the window."""
        ...


class ChartRenderer(Protocol):
    """Draws series as a PNG file; returns its path. Implementations render off the event loop."""

    async def line(
        self,
        title: str,
        unit: str,
        series: Mapping[str, Sequence[Sample]],
        flagged: Mapping[str, Sequence[Sample]] | None = None,
    ) -> str: ...

    async def paths(self, title: str, graph: PathGraph) -> str:
        """The merged network paths as a diagram."""
        ...


class HistoryDoor(Protocol):
    """What the kernel asks before planning (pipeline.historian.Historian)."""

    async def answer(self, message: InboundMessage, principal: Principal) -> Reply | None:
        """The answer to a question about the past, or None when the message asks none."""
        ...


# ---------------------------------------------------------------------- the questions, as data

KIND_WORDS: dict[Kind, tuple[str, ...]] = {
    "latency": ("latency", "ping time", "ping times", "response time", "round trip", "round-trip", "rtt"),
    "loss": ("packet loss", "loss"),
    "open_ports": ("open ports", "number of open ports"),
    "disk": ("disk use", "disk usage", "disk space", "disk", "storage"),
    "service": ("service state", "service status", "availability"),
    "bandwidth": ("bandwidth", "throughput", "transfer rate", "network speed"),
}
TREND_CUES = (
    r"how\s+(?:has|have|did|does|do)\b", r"\btrends?\b", r"\bhistory\b", r"\bchart\b", r"\bgraph\b",
    r"\bplot\b", r"\bchanged\b", r"\bevolved\b", r"\bover\s+(?:the\s+)?(?:last|past)\b",
)  # fmt: skip
PORT_CHANGES = re.compile(
    r"\b(?:which|what|any)\s+(?:new\s+)?ports?\s+(?:have\s+|has\s+|were\s+|got\s+)?(?:been\s+)?(opened|closed|changed)\b",
    re.IGNORECASE,
)
ACTIONS = {"restarted": "restart", "restart": "restart", "started": "start", "start": "start",
           "stopped": "stop", "stop": "stop"}  # fmt: skip
_ACTION = "|".join(sorted(ACTIONS, key=len, reverse=True))
LAST_ACTION = (
    re.compile(
        rf"\bwhen\s+(?:was|were)\s+(?:the\s+)?([\w.@-]+)\s+(?:service\s+)?(?:last\s+)?({_ACTION})\b", re.I
    ),
    re.compile(rf"\bwhen\s+did\s+\w+\s+last\s+({_ACTION})\s+(?:the\s+)?([\w.@-]+)", re.I),
    re.compile(rf"\bwho\s+(?:last\s+)?({_ACTION})\s+(?:the\s+)?([\w.@-]+)", re.I),
    re.compile(rf"\blast\s+time\s+(?:the\s+)?([\w.@-]+)\s+was\s+({_ACTION})\b", re.I),
)
MY_RUNS = re.compile(
    r"\bwhat\s+(?:did|have|has)\s+(i|we)\s+(?:run|ran|do|done|execute|executed|launch|launched|start|started)\b"
    r"|\bmy\s+(?:runs|requests|history|executions)\b"
    # 'did I restart anything today?', 'have we changed something this week?': the asker's own runs
    r"|\b(?:did|have|has)\s+(?:i|we)\s+(?:\w+\s+)?\w+\s+(?:anything|something)\b",
    re.IGNORECASE,
)

PATHS = (
    re.compile(r"\b(?:topology|network\s+(?:map|diagram|graph)|path\s+graph)\b", re.I),
    re.compile(
        r"\b(?:show|draw|map|display|diagram|picture|visuali[sz]e|graph)\b.*"
        r"\b(?:network\s+paths?|(?:paths?|routes?)\s+(?:to|towards)\s+(?!/))",
        re.I,
    ),
)  # 'show me the network path to the london servers'; never 'show the path /var/log'
Question = Literal["trend", "ports", "last", "runs", "paths"]


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    label: str


@dataclass(frozen=True)
class HistoryQuestion:
    kind: Question
    window: Window
    measure: Kind | None = None  # trend
    args: tuple[tuple[str, str], ...] = ()  # last: the step arguments to look for


def read_question(text: str, now: datetime) -> HistoryQuestion | None:
    """The question about the past a sentence asks, or None."""
    if MY_RUNS.search(text):
        return HistoryQuestion("runs", window(text, now, timedelta(days=1)))
    if PORT_CHANGES.search(text):
        return HistoryQuestion("ports", window(text, now, timedelta(days=1)))
    for pattern in LAST_ACTION:
        match = pattern.search(text)
        if match is not None:
            first, second = match.groups()
            verb, service = (second, first) if first.lower() not in ACTIONS else (first, second)
            args = (("service", service.lower()), ("action", ACTIONS[verb.lower()]))
            return HistoryQuestion("last", window(text, now, timedelta(days=90)), args=args)
    if any(pattern.search(text) for pattern in PATHS):
        return HistoryQuestion("paths", window(text, now, timedelta(days=7)))
    measure = _measure(text)
    if measure is not None and any(re.search(cue, text, re.IGNORECASE) for cue in TREND_CUES):
        return HistoryQuestion("trend", window(text, now, timedelta(days=7)), measure=measure)
    return None


def _measure(text: str) -> Kind | None:
    low = text.lower()
    for kind, words in KIND_WORDS.items():
        if any(re.search(rf"\b{re.escape(w)}\b", low) for w in words):
            return kind
    return None


# ---------------------------------------------------------------------- time windows

_SPAN_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2_592_000}
_LAST_N = re.compile(r"\b(?:last|past|previous)\s+(\d+)\s+(minute|hour|day|week|month)s?\b", re.I)
_LAST_ONE = re.compile(r"\b(?:last|past|previous|this)\s+(hour|day|week|month)\b", re.I)


def window(text: str, now: datetime, default: timedelta) -> Window:
    """The time span a question is about ('yesterday', 'since yesterday', 'this week', 'last 3 days')."""
    low = text.lower()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if "since yesterday" in low:
        return Window(midnight - timedelta(days=1), now, "since yesterday")
    if "yesterday" in low:
        return Window(midnight - timedelta(days=1), midnight, "yesterday")
    if "today" in low:
        return Window(midnight, now, "today")
    match = _LAST_N.search(low)
    if match is not None:
        count, unit = int(match.group(1)), match.group(2)
        return Window(now - timedelta(seconds=count * _SPAN_UNITS[unit]), now, f"the last {count} {unit}s")
    match = _LAST_ONE.search(low)
    if match is not None:
        unit = match.group(1)
        return Window(now - timedelta(seconds=_SPAN_UNITS[unit]), now, f"the last {unit}")
    return Window(now - default, now, f"the last {_describe(default)}")


_SPAN_WORDS = re.compile(
    r"\b(?:(?:over|in|during|for|within)\s+)?(?:the\s+)?"
    r"(?:since\s+yesterday|yesterday|today|"
    r"(?:last|past|previous)\s+\d+\s+(?:minute|hour|day|week|month)s?|"
    r"(?:last|past|previous|this)\s+(?:hour|day|week|month))\b",
    re.I,
)


def without_window(text: str) -> str:
    """The sentence without its time span ('over the last 3 days'), whose number is no argument."""
    return re.sub(r"\s+", " ", _SPAN_WORDS.sub(" ", text)).strip()


def _describe(span: timedelta) -> str:
    days = span.days
    if days >= 1:
        return f"{days} days" if days != 1 else "day"
    hours = int(span.total_seconds() // 3600)
    return f"{hours} hours" if hours != 1 else "hour"
