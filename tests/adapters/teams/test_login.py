"""Hole 10: the bot's own Microsoft login through the real MSAL code path, against an Entra
stand-in over TLS on loopback: a configured authority and scope, a refused secret reported as
such (503 and one line, no PermissionError), and a login endpoint that never answers held off
the event loop (`/health` keeps answering) and given up after `login_timeout_s`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.teams import TeamsConfig
from tests.adapters.teams.conftest import APP_ID, CALLS, PEOPLE, World, make_world
from tests.fakes.bot_connector import BotConnectorStandIn
from tests.fakes.entra_login import EntraLoginStandIn, SilentListener
from tests.fakes.openid_server import OpenIdStandIn

SECRET = "the-real-client-secret"


@pytest.fixture
def entra(tmp_path: Path) -> Iterator[EntraLoginStandIn]:
    stand_in = EntraLoginStandIn(tmp_path, APP_ID, SECRET)
    stand_in.start()
    yield stand_in
    stand_in.close()
    assert not stand_in.unexpected, stand_in.unexpected


async def world_with(
    openid: OpenIdStandIn, authority: str, *, password: str = SECRET, verify: bool | str = True, **extra: Any
) -> AsyncIterator[World]:
    connector = BotConnectorStandIn()
    await connector.start()
    for user, (aad, name, email) in PEOPLE.items():
        connector.add_member(f"29:1{user}", aad, name, email)
    config = TeamsConfig(
        app_id=APP_ID,
        app_password=password,
        openid_metadata_url=openid.metadata_url,
        login_authority=authority,
        login_verify=verify,
        progress_interval_s=0.5,
        **extra,
    )
    try:
        async for world in make_world(connector, config):  # credentials: the real MSAL factory
            yield world
    finally:
        await connector.close()


def signed(openid: OpenIdStandIn, world: World) -> str:
    return openid.sign(openid.claims(APP_ID, world.connector.base))


async def post(openid: OpenIdStandIn, world: World, text: str) -> Any:
    return await world.teams.post(world.teams.channel_message(text), token=signed(openid, world))


async def test_replies_carry_a_token_from_the_configured_authority(
    openid: OpenIdStandIn, entra: EntraLoginStandIn
) -> None:
    async for world in world_with(openid, entra.authority, verify=str(entra.ca_path)):
        for text in ("read web-01", "read web-02"):
            response = await world.teams.post(world.teams.channel_message(text), token=signed(openid, world))
            assert response.status == 201
        assert CALLS == [("read", "web-01"), ("read", "web-02")]
        [token] = entra.issued  # MSAL's cache: one token for both turns
        assert {c.authorization for c in world.connector.calls} == {f"Bearer {token}"}
        assert entra.requests.count(f"POST /{entra.tenant}/oauth2/v2.0/token") == 1


async def test_a_refused_secret_is_reported_as_such(
    openid: OpenIdStandIn, entra: EntraLoginStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async for world in world_with(
        openid, entra.authority, password="an-old-secret", verify=str(entra.ca_path)
    ):
        response = await world.teams.post(
            world.teams.channel_message("read web-01"), token=signed(openid, world)
        )
        assert response.status == 503
        assert CALLS == [] and world.connector.calls == [] and entra.issued == []
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Microsoft Entra refused the bot's client secret or certificate for app id" in line
    assert "invalid_client: AADSTS7000215: Invalid client secret provided" in line
    assert "check teams.app_password" in line and "Trace ID" not in line
    assert "PermissionError" not in caplog.text and "Traceback" not in caplog.text


async def test_an_unknown_app_id_is_reported_as_such(
    openid: OpenIdStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entra = EntraLoginStandIn(tmp_path, "another-app-id", SECRET)
    entra.start()
    try:
        async for world in world_with(openid, entra.authority, verify=str(entra.ca_path)):
            response = await world.teams.post(
                world.teams.personal_message("read web-01"), token=signed(openid, world)
            )
            assert response.status == 503
    finally:
        entra.close()
    assert "does not know app id" in caplog.text and "check teams.app_id" in caplog.text


async def test_a_silent_login_endpoint_never_freezes_the_server(openid: OpenIdStandIn) -> None:
    silent = SilentListener().start()
    try:
        async for world in world_with(openid, silent.authority, login_timeout_s=60):
            token = signed(openid, world)
            message = asyncio.ensure_future(
                world.teams.post(world.teams.channel_message("read web-01"), token=token, drain=False)
            )
            while silent.accepted == 0:  # the bot is now waiting for its token
                assert not message.done()
                await asyncio.sleep(0.05)
            health = await world.teams.client.get("/health")
            assert health.status == 200  # answered while the login hangs
            assert not message.done()
            message.cancel()
            await asyncio.gather(message, return_exceptions=True)
    finally:
        silent.close()


async def test_a_silent_login_endpoint_is_given_up_after_the_timeout(
    openid: OpenIdStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    silent = SilentListener().start()
    try:
        async for world in world_with(openid, silent.authority, login_timeout_s=1.0):
            response = await world.teams.post(
                world.teams.channel_message("read web-01"), token=signed(openid, world)
            )
            assert response.status == 503
            assert CALLS == [] and world.connector.calls == []
    finally:
        silent.close()
    assert f"the Teams login endpoint {silent.authority} did not answer within 1 s" in caplog.text
    assert "Traceback" not in caplog.text
