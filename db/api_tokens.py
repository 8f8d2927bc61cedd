"""`SqlApiTokens`: personal API tokens, stored as SHA-256 hashes of their secrets.

A token reads ``oct_<id>_<secret>``: the id finds the row, the secret is compared with the
stored hash in constant time. The plaintext exists only in the return value of `create`;
a revoked or expired token never authenticates again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import rowcount, store_errors
from db.models import ApiToken
from db.types import new_id, utcnow

PREFIX = "oct_"
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often per token


@dataclass(frozen=True)
class TokenRecord:
    """A stored token, without its secret."""

    id: str
    person: str
    display_name: str
    roles: tuple[str, ...]
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed token, else None."""
    if not token.startswith(PREFIX):
        return None
    token_id, _, secret = token[len(PREFIX) :].partition("_")
    if len(token_id) != 32 or not secret:
        return None
    return token_id, secret


class SqlApiTokens:
    """Create, list, revoke and check personal API tokens."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self,
        person: str,
        roles: Sequence[str],
        *,
        expires_at: datetime | None = None,
        label: str = "",
        display_name: str = "",
    ) -> tuple[TokenRecord, str]:
        """Store a new token; returns its record and the plaintext token (shown once, never stored)."""
        token_id, secret = new_id(), secrets.token_urlsafe(32)
        row = ApiToken(
            id=token_id,
            person=person,
            display_name=display_name or person,
            roles=sorted(set(roles)),
            label=label,
            secret_hash=_hash(secret),
            created_at=utcnow(),
            expires_at=expires_at,
        )
        async with store_errors(), self._sessions.begin() as session:
            session.add(row)
        return _record(row), f"{PREFIX}{token_id}_{secret}"

    async def list(self, person: str | None = None) -> list[TokenRecord]:
        query = select(ApiToken).order_by(ApiToken.created_at)
        if person is not None:
            query = query.where(ApiToken.person == person)
        async with store_errors(), self._sessions() as session:
            return [_record(r) for r in await session.scalars(query)]

    async def get(self, token_id: str) -> TokenRecord | None:
        async with store_errors(), self._sessions() as session:
            row = await session.get(ApiToken, token_id)
        return _record(row) if row is not None else None

    async def revoke(self, token_id: str) -> bool:
        """Revoke a token now; False when no such token or it was already revoked."""
        query = (
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        async with store_errors(), self._sessions.begin() as session:
            return rowcount(await session.execute(query)) == 1

    async def authenticate(self, token: str, now: datetime | None = None) -> TokenRecord | None:
        """The token's record when it is well formed, known, matching, unrevoked and unexpired."""
        parts = split_token(token)
        if parts is None:
            return None
        token_id, secret = parts
        now = now or utcnow()
        async with store_errors(), self._sessions() as session:
            row = await session.get(ApiToken, token_id)
        if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
            return None
        record = _record(row)
        if not record.valid_at(now):
            return None
        if record.last_used_at is None or now - record.last_used_at > TOUCH_EVERY:
            touch = update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            async with store_errors(), self._sessions.begin() as session:
                await session.execute(touch)
        return record


def _record(row: ApiToken) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        person=row.person,
        display_name=row.display_name,
        roles=tuple(row.roles),
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
