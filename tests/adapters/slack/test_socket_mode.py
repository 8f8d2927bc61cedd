"""Socket Mode against the stand-in: apps.connections.open gives a loopback ws:// URL, the
stand-in pushes envelopes and checks the acks; retried envelopes run once."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from adapters.cache import InProcessCache
from adapters.slack import slack_mount
from bot.server import build_web_app
from tests.adapters.slack.conftest import CALLS, build_adapter, build_kernel
from tests.adapters.slack.test_requests import texts
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore
from tests.fakes.slack_api import TEAM, SlackApiStandIn


def envelope(envelope_id: str, event_id: str, text: str, retry: int = 0) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": f"<@UBOT> {text}",
        "ts": "1.000001",
        "channel": "C1",
    }
    return {
        "envelope_id": envelope_id,
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
        "payload": {
            "type": "event_callback",
            "team_id": TEAM,
            "event": event,
            "event_id": event_id,
            "event_time": int(time.time()),
        },
    }


async def test_socket_mode_acks_envelopes_and_answers_once(api: SlackApiStandIn) -> None:
    CALLS.clear()
    kernel = build_kernel(MemoryExecutionStore(), MemoryAuditLog())
    adapter = build_adapter(
        api.base + "/api/",
        kernel,
        InProcessCache(),
        CollectorRegistry(),
        mode="socket",
        app_token="xapp-1-test",
    )
    app = build_web_app(mounts=[slack_mount(adapter)])
    async with TestServer(app, host="127.0.0.1"):  # startup opens the Socket Mode connection
        [opened] = api.of("apps.connections.open")
        assert opened.token == "xapp-1-test"
        session = await asyncio.wait_for(api.sockets.get(), 10)
        await session.ws.send_str(json.dumps(envelope("env-1", "EvS1", "read web-01")))
        assert await asyncio.wait_for(session.acks.get(), 10) == {"envelope_id": "env-1"}
        await session.ws.send_str(json.dumps(envelope("env-2", "EvS1", "read web-01", retry=1)))
        assert await asyncio.wait_for(session.acks.get(), 10) == {"envelope_id": "env-2"}
        await adapter.drain()
    assert CALLS == [("read", "web-01")]
    [post] = api.of("chat.postMessage")
    assert "probe.read" in texts(post.args["blocks"])
    assert "/slack/events" not in [r.canonical for r in app.router.resources()]  # no HTTP endpoint
