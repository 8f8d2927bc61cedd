"""Change freezes: cron-like windows, per environment or tag, in which changes are refused.

A window opens at each time its `cron` expression names (croniter, five fields, in `timezone`)
and stays open for `hours`. It covers a target whose environment is one of `environments` (when
set) and which carries every tag in `tags` (when set); a window with neither covers every target.

    policy.freeze_hits(plan, now)  -> the open windows covering a change step's targets
    split_override(text)           -> ('reason', 'the request') for 'override freeze "reason": ...'

A change in an open window is refused with the window named, unless a person holding a role
listed in `freezes.override` (admin by default) overrides it with a reason; the override is
audited and shown with the plan.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.contracts import AssetRef

OVERRIDE = re.compile(
    r'^\s*override\s+(?:the\s+)?(?:change\s+)?freeze\s*(?:"([^"]+)"|\u201c([^\u201d]+)\u201d)\s*[:,;-]?\s*(.*)$',
    re.IGNORECASE | re.DOTALL,
)


class FreezeWindow(BaseModel):
    """One recurring freeze: opens at each `cron` time, lasts `hours`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    cron: str
    hours: float = Field(gt=0)
    timezone: str = "UTC"
    environments: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
    message: str = ""  # shown with the refusal, e.g. who to ask

    @field_validator("cron")
    @classmethod
    def valid_cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (minute hour day month weekday)")
        return value

    @field_validator("timezone")
    @classmethod
    def valid_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value

    def covers(self, asset: AssetRef) -> bool:
        if self.environments and asset.environment.lower() not in {e.lower() for e in self.environments}:
            return False
        return all(asset.tags.get(k) == v for k, v in self.tags.items())

    def open_at(self, now: datetime) -> tuple[datetime, datetime] | None:
        """(start, end) of the window open at `now`, or None. A window opening at `now` is open."""
        local = now.astimezone(ZoneInfo(self.timezone))
        start: datetime = croniter(self.cron, local + timedelta(seconds=1)).get_prev(datetime)
        end = start + timedelta(hours=self.hours)
        return (start, end) if start <= local < end else None


class Freezes(BaseModel):
    """The policy's `freezes` section: the windows, and the roles that may override them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    override: tuple[str, ...] = ("admin",)
    windows: tuple[FreezeWindow, ...] = ()


class FreezeHit(BaseModel):
    """An open window and the targets of the plan it covers."""

    model_config = ConfigDict(frozen=True)
    window: FreezeWindow
    start: datetime
    end: datetime
    targets: tuple[str, ...]

    def describe(self) -> str:
        when = f"{self.start:%a %Y-%m-%d %H:%M} to {self.end:%a %Y-%m-%d %H:%M %Z}"
        note = f"; {self.window.message}" if self.window.message else ""
        return f"{self.window.name} ({when}; covers {', '.join(self.targets)}{note})"


def split_override(text: str) -> tuple[str, str]:
    """('reason', request) when `text` asks to override a freeze, else ('', text)."""
    match = OVERRIDE.match(text)
    if match is None:
        return "", text
    reason = (match.group(1) or match.group(2) or "").strip()
    return reason, match.group(3).strip()
