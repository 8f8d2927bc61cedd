"""Real receivers on loopback for notification tests: an SMTP server (aiosmtpd) and a webhook receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.db.conftest import (  # noqa: F401  (database fixtures: SQLite and PostgreSQL)
    db_url,
    engine,
    migrated_url,
    sessions,
    sqlite_url,
)


@dataclass
class Mailbox:
    """What the SMTP server received: (envelope recipients, parsed message) per mail."""

    mails: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(content)))
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp_server() -> AsyncIterator[tuple[int, Mailbox]]:
    """aiosmtpd's SMTP protocol served on the test's own loop (Apprise sends from a worker thread)."""
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(mailbox, hostname="smtp.test"), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], mailbox
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class Webhooks:
    """Requests the receiver got per path; `fail_first[path]` answers 500 that many times first."""

    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fail_first: dict[str, int] = field(default_factory=dict)
    headers: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        path = request.match_info["name"]
        self.headers.append(dict(request.headers))
        body = await request.json()
        self.received.setdefault(path, []).append(body)
        if path == "down":
            return web.Response(status=503, text="maintenance")
        if self.fail_first.get(path, 0) > 0:
            self.fail_first[path] -= 1
            return web.Response(status=500, text="try again")
        return web.json_response({"ok": True})


@pytest.fixture
async def webhook_server() -> AsyncIterator[tuple[int, Webhooks]]:
    hooks = Webhooks()
    app = web.Application()
    app.router.add_post("/{name}", hooks.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield port, hooks
    finally:
        await runner.cleanup()
