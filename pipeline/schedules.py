"""Schedules: a planned request that runs again on a cron expression or an interval.

    creation : text -> plan (same planner, same policy as chat) -> Schedule (plan stored whole)
               changes only for tools the policy marks schedulable, approved once, here
    tick     : every replica asks the store for due schedules; `ScheduleStore.claim` wins for
               exactly one of them per tick (a conditional UPDATE of `next_run_at` and a
               unique (schedule, tick) run row), whatever the number of replicas
    run      : Kernel.run_scheduled -> an ordinary execution (leased, steps on the job
               engine, resumed by another replica when this one dies)
    post     : every run, or only when the run's state differs from the last run's (default)

A run's *state* is what a person watching would call a change: each (tool, target)'s status
(ok, failed, unreachable ...) plus the anomaly flags of its measurements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from croniter import croniter
from pydantic import Field, model_validator

from pipeline.contracts import Frozen, InboundMessage, Plan, Principal, Reply, TargetResult, TargetStatus

Notify = Literal["change", "always"]
ScheduleState = Literal["active", "paused", "pending_approval"]
RunState = dict[str, str]
MIN_EVERY_S = 1
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"\s*(\d+)\s*([smhd]?)\s*", re.IGNORECASE)


def parse_every(text: str) -> int:
    """'90', '90s', '5m', '2h', '1d' -> seconds; ValueError otherwise."""
    match = _EVERY.fullmatch(text)
    if match is None:
        raise ValueError(f"not an interval: {text!r} (use e.g. 30s, 5m, 2h, 1d)")
    seconds = int(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if seconds < MIN_EVERY_S:
        raise ValueError(f"an interval must be at least {MIN_EVERY_S} s")
    return seconds


class Cadence(Frozen):
    """When a schedule runs: a five-field cron expression (UTC) or a fixed interval (the first
    run at once, each next one an interval after the previous run began)."""

    cron: str | None = None
    every_s: int | None = Field(None, ge=MIN_EVERY_S)

    @model_validator(mode="after")
    def one_of_them(self) -> Cadence:
        if (self.cron is None) == (self.every_s is None):
            raise ValueError("a schedule needs either a cron expression or an interval")
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ValueError(f"not a cron expression: {self.cron!r}")
        return self

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after `moment` (UTC)."""
        if self.every_s is not None:
            return moment + timedelta(seconds=self.every_s)
        assert self.cron is not None
        following: datetime = croniter(self.cron, moment.astimezone(UTC)).get_next(datetime)
        return following.astimezone(UTC)

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron `{self.cron}` (UTC)"
        return "every " + _duration(self.every_s or 0)


def _duration(seconds: int) -> str:
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % size == 0:
            count = seconds // size
            return name if count == 1 else f"{count} {name}s"
    raise AssertionError("unreachable: every whole number of seconds is a whole number of seconds")


class Destination(Frozen):
    """Where a schedule posts: a platform and a channel (and thread) on it."""

    platform: str  # slack, teams, console
    channel: str = ""
    thread: str = ""

    @classmethod
    def parse(cls, text: str) -> Destination:
        """'slack:C0123', 'slack:#ops', 'teams:<conversation>', 'console'."""
        platform, _, channel = text.partition(":")
        if platform not in {"slack", "teams", "console"}:
            raise ValueError(f"post where? {text!r} (slack:CHANNEL, teams:CONVERSATION or console)")
        if platform != "console" and not channel:
            raise ValueError(f"post to which {platform} channel? ({platform}:CHANNEL)")
        return cls(platform=platform, channel=channel)

    def describe(self) -> str:
        return "the console log" if self.platform == "console" else f"{self.platform} {self.channel}"


class Schedule(Frozen):
    """A stored schedule; `message` carries the owner's identity (re-resolved at every run)."""

    id: str
    number: int = 0  # short, for people ("resume schedule 3"); given by the store when it is added
    name: str
    text: str
    plan: Plan
    cadence: Cadence
    destination: Destination
    notify: Notify = "change"
    owner: str  # principal subject of the creator
    message: InboundMessage  # the creating message: owner identity, for Teams the conversation
    state: ScheduleState = "active"
    next_run_at: datetime
    last_run_at: datetime | None = None
    last_state: RunState | None = None
    approved_by: str | None = None
    created_at: datetime

    def run_message(self, tick: datetime) -> InboundMessage:
        """The message a run is recorded (and answered) under: owner's identity, the destination."""
        stamp = tick.strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.message.model_copy(
            update={
                "text": self.text,
                "channel": self.destination.channel or self.message.channel,
                "thread": self.destination.thread,
                "message_id": f"schedule:{self.id}:{stamp}",
                "received_at": tick,
            }
        )


class ScheduleStore(Protocol):
    """Schedules and their runs, persisted; `claim` is atomic across processes."""

    async def add(self, schedule: Schedule) -> Schedule:
        """Store a new schedule; returns it with its number."""
        ...

    async def get(self, schedule_id: str) -> Schedule | None: ...

    async def all(self) -> list[Schedule]: ...

    async def set_state(self, schedule_id: str, state: ScheduleState, approved_by: str | None = None) -> bool:
        """Change a schedule's state; False when there is no such schedule."""
        ...

    async def delete(self, schedule_id: str) -> bool: ...

    async def due(self, now: datetime) -> list[Schedule]:
        """Active schedules whose `next_run_at` has come."""
        ...

    async def claim(self, schedule_id: str, tick: datetime, next_at: datetime, by: str) -> bool:
        """Take tick `tick` of a schedule (moving `next_run_at` to `next_at`); True for one caller only."""
        ...

    async def finish_run(
        self, schedule_id: str, tick: datetime, execution_id: str | None, state: RunState, posted: bool
    ) -> None:
        """Record how a tick's run ended and make `state` the schedule's last state."""
        ...


OBSERVED = ("active", "open")
"""Output fields that are a state in themselves (a service's `active`, a scan's `open` ports)."""


class ScheduleDoor(Protocol):
    """What the kernel needs to turn a chat request for a schedule into one (pipeline.scheduler)."""

    async def create(
        self,
        message: InboundMessage,
        cadence: Cadence,
        destination: Destination,
        notify: Notify = "change",
        name: str = "",
    ) -> tuple[Schedule | None, Reply]: ...

    async def manage(self, message: InboundMessage, principal: Principal) -> Reply | None:
        """Answer a request about existing schedules (list, pause, resume, delete, approve);
        None when the message is not one."""
        ...


def run_state(reply: Reply) -> RunState:
    """What changed-or-not means for one run: each (tool, target)'s status and observed state."""
    if reply.result is None:
        return {"run": reply.outcome}
    return {
        f"{step.tool} {target.target or '-'}": _observed(target)
        for step in reply.result.steps
        for target in step.results
    }


def _observed(target: TargetResult) -> str:
    parts = [target.status.value]
    for field in OBSERVED:
        value = target.output.data.get(field)
        if isinstance(value, list):
            parts.append(f"{field} {','.join(str(v) for v in value) or 'none'}")
        elif isinstance(value, str) and value:
            parts.append(f"{field} {value}")
    return ", ".join(parts)


def changes(before: Mapping[str, str] | None, after: Mapping[str, str]) -> list[str]:
    """Lines describing what differs ('network.ping db-01: ok -> unreachable'); a first run
    differs from an all-ok nothing (so a check that starts healthy stays quiet)."""
    if before is None:
        return [f"{key}: {value}" for key, value in sorted(after.items()) if not _ok(value)]
    keys = sorted(set(before) | set(after))
    return [
        f"{key}: {before.get(key, 'none')} -> {after.get(key, 'none')}"
        for key in keys
        if before.get(key) != after.get(key)
    ]


def _ok(value: str) -> bool:
    return value.split(",", 1)[0] == TargetStatus.OK.value
