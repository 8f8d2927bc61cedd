"""Hole 10 on a real `opsconductor serve`: with the Teams login endpoint black-holed (a loopback
listener that accepts and never answers), a signed Teams message waits for the bot's token in
the login thread while `/health` keeps answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.bot_connector import BotConnectorStandIn
from tests.fakes.entra_login import SilentListener
from tests.fakes.openid_server import OpenIdStandIn
from tests.security.serve import Serve, production
from tests.security.test_doors import APP_ID, activity

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def openid() -> Iterator[OpenIdStandIn]:
    stand_in = OpenIdStandIn()
    stand_in.start()
    yield stand_in
    stand_in.close()


async def test_a_black_holed_login_never_freezes_serve(tmp_path: Path, openid: OpenIdStandIn) -> None:
    silent = SilentListener().start()
    connector = BotConnectorStandIn()
    await connector.start()
    env = production(
        tmp_path,
        teams__enabled="true",
        teams__app_id=APP_ID,
        teams__app_password="a-real-app-password",
        teams__openid_metadata_url=openid.metadata_url,
        teams__login_authority=silent.authority,
        teams__login_timeout_s="90",
    )
    serve = Serve(env, tmp_path / "serve.log").start()
    try:
        message = activity("message", connector.base, text="ping 127.0.0.1")
        token = openid.sign(openid.claims(APP_ID, connector.base))
        async with aiohttp.ClientSession() as http:
            post = asyncio.ensure_future(
                http.post(
                    f"{serve.url}/api/messages", json=message, headers={"Authorization": f"Bearer {token}"}
                )
            )
            deadline = time.monotonic() + 60
            while silent.accepted == 0:  # the bot now waits for its token from the silent endpoint
                assert time.monotonic() < deadline and not post.done(), serve.output()[-2000:]
                await asyncio.sleep(0.1)
            for _ in range(3):
                async with http.get(f"{serve.url}/health") as health:
                    assert health.status == 200
                    assert (await health.json())["status"] == "ok"
            assert not post.done()  # still waiting for the login, and the server still answers
            post.cancel()
            await asyncio.gather(post, return_exceptions=True)
        assert connector.calls == []
    finally:
        silent.close()
        serve.stop()
        await connector.close()
    assert "Traceback" not in serve.output()
