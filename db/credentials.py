"""`SqlCredentialStore`: every stored host login, by scope, sealed with one `CredentialCipher`.

Host scope lives in asset_credentials (bound to its asset: deleting the asset deletes it, and
the HTTP API writes the same rows); tag and default scopes live in scoped_credentials. Which
one logs in to a host is `domains.assets.credential_scope.choose`. Secrets are opened only for
the one credential a login needs, or to show a key's fingerprint; never listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import begin_immediate, rowcount, store_errors
from db.models import Asset, AssetCredential, ScopedCredential
from db.types import utcnow
from domains.assets.credential_scope import CredentialScope, ScopeKind, choose
from domains.assets.credentials import (
    Credential,
    CredentialCipher,
    CredentialError,
    CredentialKind,
    Sealed,
    reseal,
    ssh_key_fingerprint,
)
from domains.assets.directory import asset_key
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest, UnknownTarget

Row = AssetCredential | ScopedCredential


@dataclass(frozen=True, slots=True)
class StoredLogin:
    """What `credentials list` shows of one stored credential: never its secret."""

    scope: CredentialScope
    kind: CredentialKind
    username: str
    key_id: str
    fingerprint: str  # of an SSH key's public half; "" for passwords


def _sealed(row: Row) -> Sealed:
    return Sealed(row.ciphertext, row.nonce, row.key_id)


Stored = list[tuple[CredentialScope, CredentialKind, Row]]


async def _stored(session: AsyncSession, host: str | None = None) -> Stored:
    """Stored credentials with their scopes: every host's (or only `host`'s) and every scoped one."""
    query = select(AssetCredential, Asset.name).join(Asset, AssetCredential.asset_id == Asset.id)
    if host is not None:
        query = query.where(Asset.name == host)
    found: Stored = [
        (CredentialScope("host", name), cast(CredentialKind, row.kind), row)
        for row, name in (await session.execute(query)).all()
    ]
    for row in await session.scalars(select(ScopedCredential)):
        found.append(
            (CredentialScope(cast(ScopeKind, row.scope), row.value), cast(CredentialKind, row.kind), row)
        )
    return found


class SqlCredentialStore:
    """Set, list, delete and resolve host logins; rotate the key they are sealed with."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: CredentialCipher | None) -> None:
        self._sessions = sessions
        self.cipher = cipher

    async def host_scope(self, host: str) -> CredentialScope:
        """The host scope of an inventory asset named `host` (or the one asset at that address)."""
        async with store_errors(), self._sessions() as session:
            row = await self._asset(session, host)
        return CredentialScope("host", row.name)

    async def is_windows(self, host: str) -> bool:
        async with store_errors(), self._sessions() as session:
            return (await self._asset(session, host)).os.lower() == "windows"

    async def set(self, scope: CredentialScope, kind: CredentialKind, username: str, secret: str) -> None:
        """Seal and store (or replace) the `kind` credential of `scope`."""
        cipher = self._cipher()
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            row = await self._row_for_update(session, scope, kind)
            row.username, row.ciphertext, row.nonce, row.key_id = (
                username,
                *cipher.seal(self._bound_to(scope), kind, secret),
            )

    async def delete(self, scope: CredentialScope, kind: CredentialKind | None = None) -> int:
        """Remove the scope's credentials (of one kind, or all); how many were removed."""
        async with store_errors(), self._sessions.begin() as session:
            if scope.kind == "host":
                asset = await self._asset(session, scope.value)
                query = delete(AssetCredential).where(AssetCredential.asset_id == asset.id)
                if kind:
                    query = query.where(AssetCredential.kind == kind)
            else:
                query = delete(ScopedCredential).where(
                    ScopedCredential.scope == scope.kind, ScopedCredential.value == scope.value
                )
                if kind:
                    query = query.where(ScopedCredential.kind == kind)
            return rowcount(await session.execute(query))

    async def logins(self) -> list[StoredLogin]:
        """Every stored credential, most specific scope first (host, tag, default)."""
        async with store_errors(), self._sessions() as session:
            stored = await _stored(session)
        found = [
            StoredLogin(scope, kind, row.username, row.key_id, self._fingerprint(scope, kind, row))
            for scope, kind, row in stored
        ]
        return sorted(found, key=lambda login: (login.scope.rank, login.kind))

    async def resolve(self, asset: AssetRef) -> Credential | None:
        """The credential that logs in to `asset` (host > tag > default), opened; None if none."""
        async with store_errors(), self._sessions() as session:
            chosen = choose(asset, await _stored(session, asset.name))
        if chosen is None:
            return None
        scope, kind, row = chosen
        secret = self._cipher().open(self._bound_to(scope), kind, _sealed(row))
        return Credential(asset=asset.name, kind=kind, username=row.username, secret=secret)

    async def key_ids(self) -> dict[str, int]:
        """How many stored credentials each key (by key id) sealed; works without a cipher."""
        counts: dict[str, int] = {}
        async with store_errors(), self._sessions() as session:
            for model in (AssetCredential, ScopedCredential):
                query = select(model.key_id, func.count()).group_by(model.key_id)
                for key_id, count in (await session.execute(query)).all():
                    counts[key_id] = counts.get(key_id, 0) + count
        return counts

    async def rotate(self, new: CredentialCipher) -> int:
        """Re-encrypt every credential from the current cipher to `new` in one transaction.

        Rows already under `new` are left alone, so an interrupted rotation can be rerun.
        Returns how many rows were re-encrypted; afterwards this store uses `new`.
        """
        old = self._cipher()
        changed = 0
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            for scope, kind, row in await _stored(session):
                if row.key_id == new.key_id:
                    continue
                sealed = reseal(old, new, self._bound_to(scope), kind, _sealed(row))
                row.ciphertext, row.nonce, row.key_id = sealed
                row.rotated_at = utcnow()
                changed += 1
        self.cipher = new
        return changed

    # ------------------------------------------------------------------ internals

    def _fingerprint(self, scope: CredentialScope, kind: str, row: Row) -> str:
        if kind != "ssh_key":
            return ""
        try:
            return ssh_key_fingerprint(self._cipher().open(self._bound_to(scope), kind, _sealed(row)))
        except (CredentialError, InvalidRequest) as err:
            return f"(unreadable: {err})"

    @staticmethod
    def _bound_to(scope: CredentialScope) -> str:
        """The name a secret is sealed for: the asset's own name for host scope (as the API seals)."""
        return scope.value if scope.kind == "host" else scope.sealed_as

    async def _row_for_update(self, session: AsyncSession, scope: CredentialScope, kind: str) -> Row:
        row: Row | None
        if scope.kind == "host":
            asset = await self._asset(session, scope.value)
            row = await session.scalar(
                select(AssetCredential).where(
                    AssetCredential.asset_id == asset.id, AssetCredential.kind == kind
                )
            )
            fresh: Row = AssetCredential(asset_id=asset.id, kind=kind)
        else:
            row = await session.scalar(
                select(ScopedCredential).where(
                    ScopedCredential.scope == scope.kind,
                    ScopedCredential.value == scope.value,
                    ScopedCredential.kind == kind,
                )
            )
            fresh = ScopedCredential(scope=scope.kind, value=scope.value, kind=kind)
        if row is None:
            session.add(fresh)
            return fresh
        row.rotated_at = utcnow()
        return row

    @staticmethod
    async def _asset(session: AsyncSession, host: str) -> Asset:
        by_name = await session.scalar(select(Asset).where(Asset.name == asset_key(host)))
        if by_name is not None:
            return by_name
        at: Sequence[Asset] = (
            await session.scalars(select(Asset).where(Asset.address == host.strip()))
        ).all()
        if len(at) == 1:
            return at[0]
        if at:
            names = ", ".join(sorted(a.name for a in at))
            raise InvalidRequest(f"{host} is the address of several assets ({names}): name one of them")
        raise UnknownTarget([host])

    def _cipher(self) -> CredentialCipher:
        if self.cipher is None:
            raise CredentialError("no credential key configured")
        return self.cipher
