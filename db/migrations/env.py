"""Alembic environment: runs migrations on a connection handed over by `db.migrate`, or on its own.

`db.migrate.upgrade(url)` opens an async engine and passes the sync connection in
``config.attributes["connection"]`` (from `AsyncConnection.run_sync`). The alembic
CLI also works: ``alembic -c db/alembic.ini -x url=sqlite+aiosqlite:///x.db upgrade head``.
SQLite migrations use batch mode so ALTERs work there too.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

import db.models  # noqa: F401  (registers every table on Base.metadata)
from db.engine import create_engine
from db.types import Base, UtcDateTime

config = context.config
target_metadata = Base.metadata


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render model-only types as plain SQLAlchemy types so revisions never import models."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )


def run_on(connection: Connection) -> None:
    configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database url: pass -x url=... or set sqlalchemy.url")
    return url


async def run_standalone() -> None:
    engine = create_engine(database_url())
    try:
        async with engine.connect() as conn:
            await conn.run_sync(run_on)
            await conn.commit()
    finally:
        await engine.dispose()


def run_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=database_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (shared := config.attributes.get("connection")) is not None:
    run_on(shared)
else:
    asyncio.run(run_standalone())
