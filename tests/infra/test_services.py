"""The shared PostgreSQL and Redis fixtures give working, isolated servers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests import services


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_postgres_answers_version(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://")
    conn = await asyncpg.connect(_asyncpg_dsn(postgres_url))
    try:
        version = await conn.fetchval("select version()")
    finally:
        await conn.close()
    assert version.startswith("PostgreSQL ")


async def test_postgres_round_trips_jsonb_and_timestamptz(postgres_url: str) -> None:
    engine = create_async_engine(postgres_url)
    stamp = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    doc = {"host": "web-02", "ports": [22, 443], "nested": {"ok": True, "note": "ü"}}
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("create table infra_rt (id serial primary key, doc jsonb, at timestamptz)")
            )
            await conn.execute(
                text("insert into infra_rt (doc, at) values (cast(:doc as jsonb), :at)"),
                {"doc": json.dumps(doc), "at": stamp},
            )
            row = (await conn.execute(text("select doc, at, doc->'nested'->>'note' from infra_rt"))).one()
    finally:
        await engine.dispose()
    assert row[0] == doc
    assert row[1] == stamp
    assert row[1].astimezone(UTC) == datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    assert row[2] == "ü"


async def test_fresh_postgres_url_is_a_separate_empty_database(
    postgres_url: str, fresh_postgres_url: str
) -> None:
    assert make_url(fresh_postgres_url).database != make_url(postgres_url).database
    conn = await asyncpg.connect(_asyncpg_dsn(fresh_postgres_url))
    try:
        tables = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
    finally:
        await conn.close()
    assert tables == 0


def test_dropping_a_database_removes_it(postgres_server: services.PostgresServer) -> None:
    url = postgres_server.create_database()
    name = make_url(url).database
    postgres_server.drop_database(url)

    async def exists() -> bool:
        conn = await asyncpg.connect(_asyncpg_dsn(str(postgres_server.admin_url)))
        try:
            return bool(await conn.fetchval("select count(*) from pg_database where datname = $1", name))
        finally:
            await conn.close()

    assert services.run_coroutine(exists()) is False
    with pytest.raises(services.ServiceError):
        postgres_server.drop_database(url)


async def test_redis_answers_ping(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.ping() is True
        await client.set("infra:key", b"value")
        assert await client.get("infra:key") == b"value"
    finally:
        await client.aclose()


async def test_redis_url_starts_empty_apart_from_the_claim(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = await client.keys("*")
    finally:
        await client.aclose()
    assert keys == [services.CLAIM_KEY.encode()]


def test_redis_session_url_is_another_database(redis_url: str, redis_session_url: str) -> None:
    assert redis_url != redis_session_url
    assert not redis_url.endswith("/0") and not redis_session_url.endswith("/0")


def test_fixtures_mark_their_tests(request: pytest.FixtureRequest, redis_url: str) -> None:
    assert request.node.get_closest_marker("redis") is not None
