"""`SqlAuditLog`: an append-only, hash-chained audit log in SQL (implements AuditLog).

Each record's hash is sha256 over the canonical JSON of
``(seq, at, actor, event, execution_id, chat, detail, prev_hash)``; the first record
links to the genesis hash (64 zeros). A single chain-head row holds the last seq
and hash. Every append starts by updating that row, which takes SQLite's write
lock or PostgreSQL's row lock first, so appends from any number of tasks and
processes are serialised: seq is gapless and the chain is linear.

With an `AuditKey` (db.audit_anchor) the hash is HMAC-SHA256 under a key that lives
outside the database, so a record rewritten and the chain recomputed without the key no
longer verifies; records older than the key keep plain sha256 (`AuditKey.unkeyed_through`).
Each append also writes the new head to a `HeadFile` outside the database.

`verify()` detects altered records, records inserted or deleted in the middle and
records deleted at the end (the head row still names them). Someone who deletes the
tail and moves the head row, or empties both tables, is caught only by a head kept
elsewhere: `verify(heads=...)` checks the chain against exported heads (the head
file, ``opsconductor audit head`` output sent to a remote log), and a chain shorter
than a known head, an empty one included, fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.audit_anchor import AuditKey, Head, HeadFile
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
    anchored: int = 0  # the highest exported head the chain was checked against (0: none)


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
    key: AuditKey | None = None,
) -> str:
    """Hex digest over the canonical JSON of one record's fields: HMAC-SHA256 under `key`
    (plain sha256 without a key, or for records the key says predate it)."""
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
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return key.digest(seq, canonical) if key else hashlib.sha256(canonical).hexdigest()


def _row_hash(row: AuditRecord, key: AuditKey | None = None) -> str:
    return chain_hash(
        row.seq, row.at, row.actor, row.event, row.execution_id, row.chat, row.detail, row.prev_hash, key
    )


class SqlAuditLog:
    """AuditLog on SQLAlchemy. `redact` cleans `detail` before it is hashed and stored; `key`
    makes the hashes HMACs; `anchor` receives every new head (both: db.audit_anchor)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redact: Redact = no_redaction,
        clock: Callable[[], datetime] = utcnow,
        key: AuditKey | None = None,
        anchor: HeadFile | None = None,
    ) -> None:
        self._sessions = sessions
        self._redact = redact
        self._clock = clock
        self._key = key
        self.anchor = anchor

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
            digest = chain_hash(seq, at, actor, event, execution_id, chat, clean, head.hash, self._key)
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
        if self.anchor is not None:
            await asyncio.to_thread(self.anchor.append, seq, digest, at)

    async def head(self) -> tuple[int, str]:
        """(last seq, last hash): anchor this outside the database to catch a rewritten chain."""
        async with store_errors(), self._sessions() as session:
            head = await session.get(AuditChainHead, HEAD_ID)
        return (head.seq, head.hash) if head else (0, GENESIS)

    async def chain_end(self) -> tuple[int, bool]:
        """(seq of the last record, whether its hash is plain sha256, i.e. written without a key);
        (0, True) for an empty log. Tells a chain from before keyed hashes from one whose key is lost."""
        query = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)
        async with store_errors(), self._sessions() as session:
            last = await session.scalar(query)
        return (last.seq, _row_hash(last) == last.hash) if last else (0, True)

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

    async def verify(self, heads: Sequence[Head] = ()) -> VerifyReport:
        """Walk the whole chain: each record's hash (keyed when there is a key) and link, its end
        against the head row, and every record an exported head names against that head. A chain
        shorter than an exported head fails, an empty one included."""
        known, clash = _index(heads)
        if clash:
            return clash
        async with store_errors(), self._sessions() as session:
            head = await session.get(AuditChainHead, HEAD_ID)
            rows = await session.stream_scalars(select(AuditRecord).order_by(AuditRecord.seq))
            expected, prev = 1, GENESIS
            async for row in rows:
                problem = _check(row, expected, prev, self._key) or _against(row, known.get(row.seq))
                if problem:
                    return VerifyReport(False, expected - 1, expected, problem)
                expected, prev = expected + 1, row.hash
        count = expected - 1
        broken = _against_head_row(head, count, prev) or _shortened(count, known)
        if broken:
            return broken
        return VerifyReport(True, count, anchored=max((s for s in known if s <= count), default=0))

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


def _check(row: AuditRecord, expected_seq: int, prev_hash: str, key: AuditKey | None) -> str:
    if row.seq > expected_seq:
        return f"record {expected_seq} is missing (deleted)"
    if row.seq != expected_seq:
        return f"record {row.seq} is out of sequence (expected {expected_seq})"
    if row.prev_hash != prev_hash:
        return f"record {row.seq} does not link to record {row.seq - 1} (inserted or replaced)"
    if _row_hash(row, key) == row.hash:
        return ""
    if key and row.seq > key.unkeyed_through and _row_hash(row) == row.hash:
        return f"record {row.seq} was rewritten without the audit key (a plain sha256 where an HMAC belongs)"
    if key and row.seq == key.unkeyed_through + 1:
        return (
            f"record {row.seq} was altered, or the audit key (id {key.key_id}) is not the one "
            "it was written with"
        )
    return f"record {row.seq} was altered"


def _index(heads: Sequence[Head]) -> tuple[dict[int, Head], VerifyReport | None]:
    """Exported heads by seq; a report when two of them name different hashes for one record."""
    known: dict[int, Head] = {}
    for head in heads:
        seen = known.setdefault(head.seq, head)
        if seen.hash != head.hash:
            reason = (
                f"{seen.source} and {head.source} name different hashes for record {head.seq}: "
                "the chain was replaced after one of them was taken"
            )
            return known, VerifyReport(False, 0, head.seq, reason)
    return known, None


def _against(row: AuditRecord, exported: Head | None) -> str:
    if exported is None or exported.hash == row.hash:
        return ""
    return f"record {row.seq} does not match the head in {exported.source}: the chain was rewritten"


def _against_head_row(head: AuditChainHead | None, count: int, last_hash: str) -> VerifyReport | None:
    if head is None:
        return None if count == 0 else VerifyReport(False, count, 1, "the chain head row is missing")
    if head.seq > count:
        return VerifyReport(False, count, count + 1, f"records {count + 1}..{head.seq} were deleted")
    if head.seq < count:
        reason = f"records after {head.seq} are not covered by the chain head (inserted)"
        return VerifyReport(False, count, head.seq + 1, reason)
    if head.hash != last_hash:
        return VerifyReport(False, count, count, f"record {count} does not match the chain head")
    return None


def _shortened(count: int, known: dict[int, Head]) -> VerifyReport | None:
    """A report when an exported head names a record beyond the end of the chain."""
    if not known or max(known) <= count:
        return None
    beyond = known[max(known)]
    if count == 0:
        reason = (
            f"the audit log is empty but {beyond.source} names record {beyond.seq}: its records were deleted"
        )
    else:
        reason = (
            f"the chain ends at record {count} but {beyond.source} names record {beyond.seq}: "
            f"records {count + 1}..{beyond.seq} were deleted"
        )
    return VerifyReport(False, count, count + 1, reason)
