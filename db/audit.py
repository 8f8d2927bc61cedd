"""`SqlAuditLog`: an append-only, hash-chained audit log in SQL (implements AuditLog).

Each record's hash is sha256 over the canonical JSON of
``(seq, at, actor, event, execution_id, chat, detail, prev_hash)``; the first record
links to the genesis hash (64 zeros). A single chain-head row holds the last seq
and hash. Every append starts by updating that row, which takes SQLite's write
lock or PostgreSQL's row lock first, so appends from any number of tasks and
processes are serialised: seq is gapless and the chain is linear.

`verify()` detects altered records, records inserted or deleted in the middle and
records deleted at the end (the head still names them). Anyone who can rewrite
the whole table and the head can forge a consistent chain, so anchor `head()`
somewhere else (a log line, a ticket) when that matters.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import rowcount, store_errors
from db.models import AuditChainHead, AuditRecord
from db.types import utcnow
from pipeline.errors import StoreUnavailable

GENESIS = "0" * 64
HEAD_ID = 1

Redact = Callable[[dict[str, Any]], dict[str, Any]]


def no_redaction(detail: dict[str, Any]) -> dict[str, Any]:
    return detail


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of `SqlAuditLog.verify`: ok, how many records were checked, where it broke and why."""

    ok: bool
    records: int
    first_bad_seq: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    event: str
    execution_id: str | None
    chat: str
    detail: dict[str, Any]
    hash: str


def json_safe(value: Any) -> Any:
    """The value as it will come back from a JSON column (integral floats become ints)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def chain_hash(
    seq: int,
    at: datetime,
    actor: str,
    event: str,
    execution_id: str | None,
    chat: str,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    """sha256 hex over the canonical JSON of one record's fields."""
    fields = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "event": event,
        "execution_id": execution_id,
        "chat": chat,
        "detail": json_safe(detail),
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _row_hash(row: AuditRecord) -> str:
    return chain_hash(
        row.seq, row.at, row.actor, row.event, row.execution_id, row.chat, row.detail, row.prev_hash
    )


class SqlAuditLog:
    """AuditLog on SQLAlchemy. `redact` cleans `detail` before it is hashed and stored."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redact: Redact = no_redaction,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._redact = redact
        self._clock = clock

    async def record(
        self,
        event: str,
        *,
        actor: str,
        execution_id: str | None = None,
        chat: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        clean = json_safe(self._redact(dict(detail or {})))
        async with store_errors(), self._sessions.begin() as session:
            head = await self._lock_head(session)
            seq, at = head.seq + 1, self._clock()
            digest = chain_hash(seq, at, actor, event, execution_id, chat, clean, head.hash)
            session.add(
                AuditRecord(
                    seq=seq,
                    at=at,
                    actor=actor,
                    event=event,
                    execution_id=execution_id,
                    chat=chat,
                    detail=clean,
                    prev_hash=head.hash,
                    hash=digest,
                )
            )
            head.seq, head.hash, head.updated_at = seq, digest, at

    async def head(self) -> tuple[int, str]:
        """(last seq, last hash): anchor this outside the database to catch a rewritten chain."""
        async with store_errors(), self._sessions() as session:
            head = await session.get(AuditChainHead, HEAD_ID)
        return (head.seq, head.hash) if head else (0, GENESIS)

    async def entries(self, execution_id: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest `limit` records (optionally of one execution), oldest first."""
        query = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit)
        if execution_id is not None:
            query = query.where(AuditRecord.execution_id == execution_id)
        async with store_errors(), self._sessions() as session:
            rows = list(await session.scalars(query))
        return [
            AuditEntry(r.seq, r.at, r.actor, r.event, r.execution_id, r.chat, r.detail, r.hash)
            for r in reversed(rows)
        ]

    async def verify(self) -> VerifyReport:
        """Walk the whole chain and compare its end with the head row."""
        async with store_errors(), self._sessions() as session:
            head = await session.get(AuditChainHead, HEAD_ID)
            rows = await session.stream_scalars(select(AuditRecord).order_by(AuditRecord.seq))
            expected, prev = 1, GENESIS
            async for row in rows:
                problem = _check(row, expected, prev)
                if problem:
                    return VerifyReport(False, expected - 1, expected, problem)
                expected, prev = expected + 1, row.hash
        count = expected - 1
        if head is None:
            ok = count == 0
            return VerifyReport(ok, count, None if ok else 1, "" if ok else "the chain head row is missing")
        if head.seq > count:
            return VerifyReport(False, count, count + 1, f"records {count + 1}..{head.seq} were deleted")
        if head.seq < count:
            reason = f"records after {head.seq} are not covered by the chain head (inserted)"
            return VerifyReport(False, count, head.seq + 1, reason)
        if head.hash != prev:
            return VerifyReport(False, count, count, f"record {count} does not match the chain head")
        return VerifyReport(True, count)

    async def _lock_head(self, session: AsyncSession) -> AuditChainHead:
        # Write first: this takes the lock that serialises appends, then read the head.
        locked = await session.execute(
            update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(seq=AuditChainHead.seq)
        )
        if rowcount(locked) == 0:
            if await session.scalar(select(func.count()).select_from(AuditRecord)):
                raise StoreUnavailable("the audit chain head row is missing; run the audit verify command")
            session.add(AuditChainHead(id=HEAD_ID, seq=0, hash=GENESIS, updated_at=self._clock()))
            await session.flush()
        head = await session.get(AuditChainHead, HEAD_ID, populate_existing=True)
        assert head is not None
        return head


def _check(row: AuditRecord, expected_seq: int, prev_hash: str) -> str:
    if row.seq > expected_seq:
        return f"record {expected_seq} is missing (deleted)"
    if row.seq != expected_seq:
        return f"record {row.seq} is out of sequence (expected {expected_seq})"
    if row.prev_hash != prev_hash:
        return f"record {row.seq} does not link to record {row.seq - 1} (inserted or replaced)"
    if _row_hash(row) != row.hash:
        return f"record {row.seq} was altered"
    return ""
