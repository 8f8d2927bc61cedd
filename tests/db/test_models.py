"""Column behaviour that must be identical on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Approval, Asset, AssetRelationship, Execution, NetworkScan, PortScanResult

Sessions = async_sessionmaker[AsyncSession]


def _asset(name: str, **fields: object) -> Asset:
    return Asset(name=name, address="127.0.0.1", **fields)


async def test_json_round_trip(sessions: Sessions, backend: str) -> None:
    tags = {"team": "storefront", "ünïcode": "✓", "nested": "a=b;c"}
    async with sessions.begin() as session:
        session.add(_asset("web-01", tags=tags, services=["nginx", "redis"]))
    async with sessions() as session:
        asset = (await session.execute(select(Asset))).scalar_one()
        assert asset.tags == tags
        assert asset.services == ["nginx", "redis"]
        column_type = await session.scalar(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'assets' AND column_name = 'tags'"
            )
            if backend == "postgresql"
            else text("SELECT type FROM pragma_table_info('assets') WHERE name = 'tags'")
        )
    assert column_type == ("jsonb" if backend == "postgresql" else "JSON")


async def test_timestamps_come_back_aware_utc(sessions: Sessions) -> None:
    local = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with sessions.begin() as session:
        session.add(_asset("web-01", created_at=local))
    async with sessions() as session:
        asset = (await session.execute(select(Asset))).scalar_one()
    assert asset.created_at == local
    assert asset.created_at.utcoffset() == timedelta(0)
    assert asset.created_at.hour == 12
    assert asset.updated_at.tzinfo is not None


async def test_naive_timestamps_are_refused(sessions: Sessions) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with sessions.begin() as session:
            session.add(_asset("web-01", created_at=datetime(2026, 1, 1)))


async def test_duplicate_asset_name_is_refused(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        session.add(_asset("web-01"))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(_asset("web-01"))


async def test_enum_checks_are_enforced(sessions: Sessions) -> None:
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                Execution(request="x", platform="console", user_id="u", principal="u", status="bogus")
            )
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            scan = NetworkScan(kind="port_scan")
            session.add(scan)
            await session.flush()
            session.add(PortScanResult(scan_id=scan.id, target="t", port=70000, state="open"))


async def test_foreign_keys_are_enforced_and_cascade(sessions: Sessions) -> None:
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                Approval(
                    execution_id="f" * 32,
                    requester="alice",
                    expires_at=datetime.now(UTC),
                )
            )
    async with sessions.begin() as session:
        a, b = _asset("web-01"), _asset("db-01")
        session.add_all([a, b])
        await session.flush()
        session.add(AssetRelationship(source_id=a.id, target_id=b.id, kind="depends_on"))
    async with sessions.begin() as session:
        await session.delete((await session.execute(select(Asset).where(Asset.name == "db-01"))).scalar_one())
    async with sessions() as session:
        assert (await session.execute(select(AssetRelationship))).first() is None
