"""The HTTP API over real HTTP on loopback: the whole `serve` app on SQLite or PostgreSQL.

`api` starts `bot.server.build_serve_app` for a real `bot.app.App` (kernel, policy, store,
audit) on 127.0.0.1 and hands out bearer tokens made with the real token store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import App, build_app
from bot.server import build_serve_app
from bot.settings import Settings
from db.api_tokens import SqlApiTokens
from db.engine import session_factory
from db.migrate import upgrade
from pipeline.contracts import AssetRef

ROLES = """
composites:
  operator: [viewer]
  admin: [operator, viewer]
people:
  - {name: alice, display_name: Alice, roles: [operator], slack: "T1:UALICE"}
  - {name: bob, display_name: Bob, roles: [viewer, approver], slack: "T1:UBOB"}
  - {name: vera, display_name: Vera, roles: [viewer], slack: "T1:UVERA"}
  - {name: adam, display_name: Adam, roles: [admin, approver], slack: "T1:UADAM"}
"""

ASSETS = [
    AssetRef(
        name="web-01", address="127.0.0.11", type="web_server", environment="production", services=("nginx",)
    ),
    AssetRef(
        name="web-02", address="127.0.0.12", type="web_server", environment="staging", services=("nginx",)
    ),
    AssetRef(name="db-01", address="127.0.0.13", type="db_server", environment="production"),
]


@dataclass
class Api:
    """A running server and a client: `await api.call("GET", "/executions", as_="alice")`."""

    url: str
    app: App
    session: aiohttp.ClientSession
    tokens: dict[str, str] = field(default_factory=dict)

    async def call(
        self, method: str, path: str, *, as_: str | None = "alice", json: Any = None, **kw: Any
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = dict(kw.pop("headers", {}))
        if as_ is not None:
            headers.setdefault("Authorization", f"Bearer {self.tokens[as_]}")
        async with self.session.request(method, self.url + path, json=json, headers=headers, **kw) as resp:
            raw = await resp.read()
            body = await resp.json(content_type=None) if raw and "json" in resp.content_type else raw
            return resp.status, body, resp

    async def token(self, person: str, roles: list[str], **kw: Any) -> str:
        assert self.app.sessions is not None
        _, token = await SqlApiTokens(self.app.sessions).create(person, roles, **kw)
        return token


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/api.db"
    return str(request.getfixturevalue("fresh_postgres_url"))


def api_settings(tmp_path: Path, db_url: str, **overrides: Any) -> Settings:
    roles = tmp_path / "roles.yaml"
    roles.write_text(ROLES)
    return Settings(
        home=tmp_path / "home",
        db={"url": db_url},
        security={"roles_file": str(roles), **overrides.pop("security", {})},
        server={"sweep_interval_s": 3600},
        **overrides,
    )


@pytest.fixture
async def api(api_db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async for running in serve_api(api_settings(tmp_path, api_db_url)):
        yield running


async def serve_api(settings: Settings) -> AsyncIterator[Api]:
    await upgrade(settings.database_url)
    app = await build_app(settings)
    await app.assets.import_assets(ASSETS)
    server = TestServer(build_serve_app(settings, app), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            running = Api(str(server.make_url("/api/v1")), app, session)
            for person, roles in {
                "alice": ["operator", "viewer"],
                "bob": ["viewer", "approver"],
                "vera": ["viewer"],
                "adam": ["admin", "operator", "viewer", "approver"],
            }.items():
                running.tokens[person] = await running.token(person, roles)
            yield running
    finally:
        await server.close()
        await app.close()


__all__ = ["ASSETS", "Api", "api_settings", "serve_api", "session_factory"]
