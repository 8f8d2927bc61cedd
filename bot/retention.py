"""Retention of stored results: the pruning job the serving replicas run once per period, and
`opsconductor history prune [--dry-run]`.

    every schedules.tick_s, on each replica's tick loop (bot.scheduling.TickLoop):
        RetentionJob.claim_due() -> the period's tick, claimed by one replica (maintenance_runs)
        -> RetentionJob.run(tick): each kind older than its retention.<kind>_days, in batches
           (db.retention), recorded on the claim and in the audit trail (`history.pruned`)

Ticks are the period's start (`retention.every_s`, aligned to UTC midnight for a day), the same
for every replica, so whichever replica looks first in a period runs it and the others skip it.
A replica that dies mid-prune leaves the rest to the next period (each batch is committed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import RetentionSettings, Settings
from db.engine import session_factory
from db.retention import RETAINED_KINDS, Removed, RetainedKind, SqlRetention
from pipeline.contracts import utcnow
from pipeline.ports import AuditLog

log = logging.getLogger(__name__)
JOB = "retention"
SYSTEM_ACTOR = "opsconductor:retention"


@dataclass(frozen=True)
class Pruned:
    """What one kind lost (or, in a dry run, would lose): rows per table, older than `before`."""

    kind: RetainedKind
    before: datetime
    removed: Removed

    @property
    def rows(self) -> int:
        return sum(self.removed.values())


async def prune(
    store: SqlRetention, section: RetentionSettings, now: datetime, *, dry_run: bool = False
) -> list[Pruned]:
    """Each kind kept for a limited time, pruned (or counted) in turn; kinds kept forever are skipped."""
    done: list[Pruned] = []
    days = section.days()
    for kind in RETAINED_KINDS:
        if days[kind] == 0:
            continue
        before = now - timedelta(days=days[kind])
        done.append(Pruned(kind, before, await store.prune(kind, before, dry_run=dry_run)))
    return done


def removed(pruned: list[Pruned]) -> dict[str, Any]:
    """kind -> {table: rows}: what the claim and the audit record keep of a run."""
    return {part.kind: part.removed for part in pruned}


def report(pruned: list[Pruned], section: RetentionSettings, *, dry_run: bool) -> list[str]:
    """The lines `history prune` prints: per kind and table, what went (or would go)."""
    verb = "would remove" if dry_run else "removed"
    lines: list[str] = []
    for part in pruned:
        tables = ", ".join(f"{rows} {table}" for table, rows in part.removed.items() if rows) or "nothing"
        lines.append(f"{part.kind:<14} older than {part.before:%Y-%m-%d %H:%M} UTC: {verb} {tables}")
    forever = [kind for kind, days in section.days().items() if days == 0]
    lines += [f"{kind:<14} kept forever (retention.{kind}_days = 0)" for kind in forever]
    lines.append("audit_log      kept: the audit trail is hash-chained and never pruned")
    return lines


class RetentionJob:
    """The pruning job on a replica's tick loop: claims each period once across replicas."""

    def __init__(
        self,
        store: SqlRetention,
        section: RetentionSettings,
        audit: AuditLog,
        by: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.section = section
        self.audit = audit
        self.by = by
        self.clock = clock
        self._seen: datetime | None = None  # the last tick this replica tried to claim

    def tick(self, now: datetime) -> datetime:
        """The start of the period `now` is in: the same instant on every replica."""
        period = self.section.every_s
        return datetime.fromtimestamp(now.timestamp() // period * period, UTC)

    async def claim_due(self) -> datetime | None:
        """The current tick when this replica won it; None when it was taken or tried already."""
        tick = self.tick(self.clock())
        if tick == self._seen:
            return None
        won = await self.store.claim(JOB, tick, self.by)  # raises while the database is down: retried
        self._seen = tick
        return tick if won else None

    async def run(self, tick: datetime) -> list[Pruned]:
        pruned = await prune(self.store, self.section, self.clock())
        summary = removed(pruned)
        await self.store.finish(JOB, tick, summary)
        detail = {"tick": tick.isoformat(), **summary}
        await self.audit.record("history.pruned", actor=SYSTEM_ACTOR, detail=detail)
        log.info("retention: removed %d rows (%s)", sum(p.rows for p in pruned), summary)
        return pruned


async def prune_from_console(settings: Settings, *, dry_run: bool) -> list[str]:
    """`opsconductor history prune`: what the job would do now, done (audited) or only counted.

    It removes only what the configured retention would remove at the next period anyway, so it
    needs database access, not a role (like the other maintenance commands)."""
    from bot.app import console_user, running_app

    async with running_app(settings) as app:
        store = SqlRetention(session_factory(app.engine), settings.retention.batch)
        pruned = await prune(store, settings.retention, utcnow(), dry_run=dry_run)
        if not dry_run:
            actor = f"console:{console_user()}"
            await app.audit.record("history.pruned", actor=actor, detail=dict(removed(pruned)))
    return report(pruned, settings.retention, dry_run=dry_run)


def retention_job(settings: Settings, engine: AsyncEngine, audit: AuditLog, by: str) -> RetentionJob:
    """The serving replica's pruning job on the database of `engine`."""
    store = SqlRetention(session_factory(engine), settings.retention.batch)
    return RetentionJob(store, settings.retention, audit, by)
