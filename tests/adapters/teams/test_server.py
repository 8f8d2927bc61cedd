"""`opsconductor serve` mounts the Teams endpoint from settings (bot/server.py)."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.cache import InProcessCache
from bot.server import build_serve_app
from bot.settings import Settings
from tests.adapters.slack.test_server import NoKernel, Running


async def test_serve_app_mounts_api_messages_when_teams_is_enabled(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, teams={"enabled": True, "app_id": "app-1", "app_password": "pw-123456"}
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    app = build_serve_app(settings, Running(NoKernel(), InProcessCache(), engine))
    assert "/api/messages" in [r.canonical for r in app.router.resources()]
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        activity = {
            "type": "message",
            "text": "hi",
            "serviceUrl": "http://127.0.0.1:9/",
            "conversation": {"id": "a:1"},
        }
        unauthenticated = await client.post("/api/messages", json=activity)
        assert unauthenticated.status == 401
        metrics = await (await client.get("/metrics")).text()
        assert 'opsconductor_teams_requests_total{kind="message",status="401"} 1.0' in metrics
    await engine.dispose()


def test_serve_app_leaves_teams_out_by_default(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    app = build_serve_app(Settings(home=tmp_path), Running(NoKernel(), InProcessCache(), engine))
    assert "/api/messages" not in [r.canonical for r in app.router.resources()]
