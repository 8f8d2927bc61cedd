"""The aiohttp server the Slack adapter mounts into (bot/server.py): health, metrics, wiring
from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.cache import InProcessCache
from adapters.slack import SlackConfig
from bot.server import build_serve_app, build_web_app
from bot.settings import Settings
from pipeline.redaction import Redactor


async def test_health_names_failing_checks_with_503() -> None:
    async def fine() -> None:
        return None

    async def down() -> bool:
        raise ConnectionRefusedError("no")

    async def says_no() -> bool:
        return False

    app = build_web_app(checks={"db": fine, "redis": down, "llm": says_no})
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/health")
        assert response.status == 503
        assert await response.json() == {
            "status": "unavailable",
            "checks": {"db": "ok", "redis": "error: ConnectionRefusedError", "llm": "failed"},
        }
        metrics = await (await client.get("/metrics")).text()
        assert 'opsconductor_http_requests_total{route="/health",status="503"} 1.0' in metrics
        assert (await client.get("/nowhere")).status == 404
        metrics = await (await client.get("/metrics")).text()
        assert 'opsconductor_http_requests_total{route="unmatched",status="404"} 1.0' in metrics


@dataclass
class Running:
    kernel: Any
    cache: Any
    engine: Any
    redactor: Redactor = field(default_factory=Redactor)


class NoKernel:
    async def submit(self, *args: Any) -> Any:
        raise AssertionError("not called")

    decide = submit

    async def expire_due(self) -> list[Any]:
        return []  # the expiry sweeper runs with the server

    resume_stalled = expire_due  # so does the stalled-execution sweep


async def test_serve_app_wires_db_health_and_slack_from_settings(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        slack={"enabled": True, "bot_token": "xoxb-1", "signing_secret": "s" * 16, "queue_size": 7},
    )
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    app = build_serve_app(settings, Running(NoKernel(), InProcessCache(), engine))
    assert "/slack/events" in [r.canonical for r in app.router.resources()]
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/health")
        assert await response.json() == {"status": "ok", "checks": {"db": "ok"}}
        unsigned = await client.post("/slack/events", data=b"{}")
        assert unsigned.status == 401
    await engine.dispose()


def test_config_from_settings_section() -> None:
    section = Settings(
        slack={"mode": "socket", "bot_token": "xoxb-1", "app_token": "xapp-1", "workers": 3}
    ).slack
    config = SlackConfig.from_section(section)
    assert (config.mode, config.bot_token, config.app_token, config.workers) == (
        "socket",
        "xoxb-1",
        "xapp-1",
        3,
    )
    assert config.queue_size == 100 and config.signing_secret == ""
