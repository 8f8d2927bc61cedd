"""The shipped migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection

import db.models  # noqa: F401  (registers every table on Base.metadata)
from db.engine import create_engine
from db.migrate import current_revision, downgrade, head_revision, upgrade
from db.types import Base


async def _diff(url: str, metadata: MetaData) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def compare(sync: Connection) -> list[Any]:
                context = MigrationContext.configure(sync, opts={"compare_type": True})
                return list(compare_metadata(context, metadata))

            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_stamps_head_and_is_idempotent(db_url: str) -> None:
    assert await current_revision(db_url) is None
    await upgrade(db_url)
    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision() == "0015"
    assert set(Base.metadata.tables) <= await _tables(db_url)


async def test_migrated_schema_matches_models(db_url: str) -> None:
    await upgrade(db_url)
    assert await _diff(db_url, Base.metadata) == []
    # The comparison does see differences: against empty metadata every table is extra.
    removed = [d for d in await _diff(db_url, MetaData()) if d[0] == "remove_table"]
    assert {d[1].name for d in removed} == set(Base.metadata.tables)


async def test_downgrade_to_base_and_back(db_url: str) -> None:
    await upgrade(db_url)
    await downgrade(db_url, "base")
    assert await current_revision(db_url) is None
    assert (await _tables(db_url)) - {"alembic_version"} == set()
    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()
