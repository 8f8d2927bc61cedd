"""`SqlAssetRepository`: the inventory in SQL (AssetDirectory + AssetStore), relationships, credentials.

Reads come from an in-memory snapshot that is reloaded after this instance writes, or,
when it is older than `ttl_s`, if the table's row count or latest update changed (other
replicas' writes); an unchanged table keeps the same snapshot object, so the indexes built
over it (`pipeline.selection`, the understanding layer's) are not rebuilt. Selection uses
`pipeline.selection.AssetIndex`, the same rule as the in-memory directory, stage C and the
understanding layer. Credentials are sealed with a `CredentialCipher`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from db.engine import begin_immediate, rowcount, store_errors
from db.models import Asset, AssetCredential, AssetRelationship
from db.types import utcnow
from domains.assets.credentials import (
    Credential,
    CredentialCipher,
    CredentialError,
    CredentialKind,
    Sealed,
)
from domains.assets.directory import RELATIONSHIP_KINDS, asset_key, validate_asset, validation_problems
from pipeline.contracts import AssetFilter, AssetRef
from pipeline.errors import InvalidRequest, UnknownTarget
from pipeline.selection import AssetIndex

_STAMP = select(func.count(), func.max(Asset.updated_at))  # any write changes one or the other
UPDATABLE = ("address", "type", "os", "environment", "location", "tags", "services")
CREDENTIAL_KINDS = ("ssh_key", "password", "winrm")


def to_ref(row: Asset) -> AssetRef:
    return AssetRef(
        name=row.name,
        address=row.address,
        type=row.type,
        os=row.os,
        environment=row.environment,
        location=row.location,
        tags=dict(row.tags),
        services=tuple(row.services),
    )


def _apply(row: Asset, asset: AssetRef) -> None:
    row.address, row.type, row.os = asset.address, asset.type, asset.os
    row.environment, row.location = asset.environment, asset.location
    row.tags, row.services = dict(asset.tags), list(asset.services)
    row.updated_at = utcnow()


def _new_row(asset: AssetRef) -> Asset:
    row = Asset(name=asset.name)
    _apply(row, asset)
    return row


class SqlAssetRepository:
    """The inventory on SQLAlchemy; pass a `cipher` to store and read credentials."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: CredentialCipher | None = None,
        ttl_s: float = 30.0,
    ) -> None:
        self._sessions = sessions
        self.cipher = cipher
        self._ttl_s = ttl_s
        self._cache: tuple[AssetRef, ...] | None = None
        self._stamp: tuple[object, ...] = ()  # (rows, last update) the cache was read at
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ AssetDirectory

    async def snapshot(self) -> Sequence[AssetRef]:
        """The inventory; the same object until it changes, so per-snapshot indexes are kept."""
        cache = self._cache
        if cache is not None and time.monotonic() - self._loaded_at < self._ttl_s:
            return cache
        async with self._lock:
            if self._cache is None or time.monotonic() - self._loaded_at >= self._ttl_s:
                async with store_errors(), self._sessions() as session:
                    stamp = tuple((await session.execute(_STAMP)).one())
                    if self._cache is None or stamp != self._stamp:
                        rows = await session.scalars(select(Asset).order_by(Asset.name))
                        self._cache, self._stamp = tuple(to_ref(row) for row in rows), stamp
                self._loaded_at = time.monotonic()
            return self._cache

    async def query(self, selector: AssetFilter) -> Sequence[AssetRef]:
        return AssetIndex.of(await self.snapshot()).select(selector)

    def invalidate(self) -> None:
        """Forget the snapshot; the next read reloads it."""
        self._cache = None

    # ------------------------------------------------------------------ AssetStore

    async def get(self, name: str) -> AssetRef | None:
        found = AssetIndex.of(await self.snapshot()).get(asset_key(name))
        return found if found is not None and found.name == asset_key(name) else None

    async def create(self, asset: AssetRef) -> AssetRef:
        """Add a validated asset; InvalidRequest when the name is taken."""
        asset = validate_asset(asset)
        try:
            async with store_errors(), self._sessions.begin() as session:
                session.add(_new_row(asset))
        except IntegrityError as err:
            raise InvalidRequest(f"asset {asset.name} already exists") from err
        finally:
            self.invalidate()
        return asset

    async def update(self, name: str, changes: Mapping[str, Any]) -> AssetRef:
        """Change fields (address, type, os, environment, location, tags, services); None keeps a field."""
        unknown = sorted(set(changes) - set(UPDATABLE))
        if unknown:
            raise InvalidRequest(f"cannot change {', '.join(unknown)} (changeable: {', '.join(UPDATABLE)})")
        values = {k: v for k, v in changes.items() if v is not None}
        try:
            async with store_errors(), self._sessions.begin() as session:
                await begin_immediate(session)
                row = await self._row(session, name)
                asset = validate_asset(_merged(to_ref(row), values))
                _apply(row, asset)
        finally:
            self.invalidate()
        return asset

    async def delete(self, name: str) -> bool:
        """Remove an asset with its relationships and credentials; False when it did not exist."""
        try:
            async with store_errors(), self._sessions.begin() as session:
                result = await session.execute(delete(Asset).where(Asset.name == asset_key(name)))
        finally:
            self.invalidate()
        return rowcount(result) > 0

    async def import_assets(self, assets: Sequence[AssetRef], *, replace: bool = False) -> int:
        """Write all assets in one transaction; with `replace` existing names are updated.

        Without `replace` an existing name fails the whole import (InvalidRequest), nothing written.
        """
        valid = [validate_asset(a) for a in assets]
        try:
            async with store_errors(), self._sessions.begin() as session:
                await begin_immediate(session)
                names = [a.name for a in valid]
                existing = {
                    row.name: row for row in await session.scalars(select(Asset).where(Asset.name.in_(names)))
                }
                if existing and not replace:
                    taken = ", ".join(sorted(existing))
                    raise InvalidRequest(f"assets already exist: {taken}; nothing was imported")
                for asset in valid:
                    if asset.name in existing:
                        _apply(existing[asset.name], asset)
                    else:
                        session.add(_new_row(asset))
        except IntegrityError as err:
            raise InvalidRequest(
                f"import conflicts with existing assets; nothing was imported: {err.orig}"
            ) from err
        finally:
            self.invalidate()
        return len(valid)

    # ------------------------------------------------------------------ relationships

    async def relate(self, source: str, kind: str, target: str) -> None:
        """Record `source kind target` (e.g. web-01 depends_on db-01); idempotent."""
        if kind not in RELATIONSHIP_KINDS:
            raise InvalidRequest(f"relationship {kind!r} unknown (known: {', '.join(RELATIONSHIP_KINDS)})")
        if asset_key(source) == asset_key(target):
            raise InvalidRequest(f"{source} cannot {kind} itself")
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            src, dst = await self._row(session, source), await self._row(session, target)
            present = await session.scalar(
                select(AssetRelationship.id).where(
                    AssetRelationship.source_id == src.id,
                    AssetRelationship.target_id == dst.id,
                    AssetRelationship.kind == kind,
                )
            )
            if present is None:
                session.add(AssetRelationship(source_id=src.id, target_id=dst.id, kind=kind))

    async def unrelate(self, source: str, kind: str, target: str) -> bool:
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            src, dst = await self._row(session, source), await self._row(session, target)
            result = await session.execute(
                delete(AssetRelationship).where(
                    AssetRelationship.source_id == src.id,
                    AssetRelationship.target_id == dst.id,
                    AssetRelationship.kind == kind,
                )
            )
        return rowcount(result) > 0

    async def relationships(self, name: str | None = None) -> list[tuple[str, str, str]]:
        """(source, kind, target) triples, all or those touching `name`, sorted."""
        source, target = aliased(Asset), aliased(Asset)
        query = (
            select(source.name, AssetRelationship.kind, target.name)
            .join(source, AssetRelationship.source_id == source.id)
            .join(target, AssetRelationship.target_id == target.id)
        )
        if name is not None:
            wanted = asset_key(name)
            query = query.where((source.name == wanted) | (target.name == wanted))
        async with store_errors(), self._sessions() as session:
            rows = (await session.execute(query)).all()
        return sorted((s, k, t) for s, k, t in rows)

    # ------------------------------------------------------------------ credentials

    async def set_credential(self, asset: str, kind: CredentialKind, username: str, secret: str) -> None:
        """Seal and store (or replace) the `kind` credential of `asset`."""
        cipher = self._require_cipher()
        if kind not in CREDENTIAL_KINDS:
            raise InvalidRequest(f"credential kind {kind!r} unknown (known: {', '.join(CREDENTIAL_KINDS)})")
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            row = await self._row(session, asset)
            sealed = cipher.seal(row.name, kind, secret)
            cred = await session.scalar(
                select(AssetCredential).where(
                    AssetCredential.asset_id == row.id, AssetCredential.kind == kind
                )
            )
            if cred is None:
                cred = AssetCredential(asset_id=row.id, kind=kind)
                session.add(cred)
            else:
                cred.rotated_at = utcnow()
            cred.username, cred.ciphertext, cred.nonce, cred.key_id = username, *sealed

    async def get_credential(self, asset: str, kind: CredentialKind) -> Credential | None:
        """The opened credential; None when none is stored or the asset is not in the inventory
        (a raw address). CredentialError when it does not decrypt."""
        cipher = self._require_cipher()
        name = asset_key(asset)
        query = (
            select(AssetCredential)
            .join(Asset, AssetCredential.asset_id == Asset.id)
            .where(Asset.name == name, AssetCredential.kind == kind)
        )
        async with store_errors(), self._sessions() as session:
            cred = await session.scalar(query)
        if cred is None:
            return None
        secret = cipher.open(name, kind, Sealed(cred.ciphertext, cred.nonce, cred.key_id))
        return Credential(asset=name, kind=kind, username=cred.username, secret=secret)

    async def credentials_of(self, asset: str) -> list[tuple[str, str, str]]:
        """(kind, username, key id) of each credential stored for `asset`; never the secret.
        UnknownTarget when the asset is not in the inventory."""
        async with store_errors(), self._sessions() as session:
            row = await self._row(session, asset)
            query = (
                select(AssetCredential)
                .where(AssetCredential.asset_id == row.id)
                .order_by(AssetCredential.kind)
            )
            return [(c.kind, c.username, c.key_id) for c in await session.scalars(query)]

    # ------------------------------------------------------------------ internals

    def _require_cipher(self) -> CredentialCipher:
        if self.cipher is None:
            raise CredentialError("no credential key configured")
        return self.cipher

    @staticmethod
    async def _row(session: AsyncSession, name: str) -> Asset:
        row = await session.scalar(select(Asset).where(Asset.name == asset_key(name)))
        if row is None:
            raise UnknownTarget([name])
        return row


def _merged(asset: AssetRef, values: Mapping[str, Any]) -> AssetRef:
    try:
        return AssetRef.model_validate({**asset.model_dump(), **values})
    except ValidationError as err:
        raise InvalidRequest(f"{asset.name}: {'; '.join(validation_problems(err))}") from err
