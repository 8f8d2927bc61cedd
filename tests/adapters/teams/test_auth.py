"""Bot Framework JWTs on `/api/messages`: tokens signed by a key this test owns, published through
an OpenID metadata + JWKS stand-in on loopback, validated by botbuilder both through its built-in
public-cloud path and through a configured metadata URL; outbound calls carry a token from a
loopback token endpoint, never login.microsoftonline.com. And the auth-disabled local mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from botframework.connector.auth import ChannelValidation

from adapters.teams import TeamsConfig
from tests.adapters.teams.cards import card_of, texts
from tests.adapters.teams.conftest import (
    APP_ID,
    CALLS,
    PEOPLE,
    LoopbackCredentialsFactory,
    World,
    make_world,
)
from tests.fakes.bot_connector import BotConnectorStandIn
from tests.fakes.openid_server import OpenIdStandIn


@pytest.fixture(params=["built-in", "configured"])
async def secure(
    request: pytest.FixtureRequest, openid: OpenIdStandIn, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[World, OpenIdStandIn]]:
    """Authentication on. "built-in": botbuilder's public-cloud validation, its metadata URL
    pointed at the stand-in; "configured": `TeamsConfig.openid_metadata_url`."""
    if request.param == "built-in":
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", openid.metadata_url)
        metadata_url = ""
    else:
        metadata_url = openid.metadata_url
    connector = BotConnectorStandIn(authorize=lambda header: header in {f"Bearer {t}" for t in openid.issued})
    await connector.start()
    for user, (aad, name, email) in PEOPLE.items():
        connector.add_member(f"29:1{user}", aad, name, email)
    config = TeamsConfig(
        app_id=APP_ID,
        app_password="test-app-password",
        openid_metadata_url=metadata_url,
        progress_interval_s=0.5,
    )
    credentials = LoopbackCredentialsFactory(APP_ID, "test-app-password", openid.token_url)
    try:
        async for world in make_world(connector, config, credentials):
            yield world, openid
    finally:
        await connector.close()
    assert not connector.unexpected, connector.unexpected


def signed(openid: OpenIdStandIn, world: World, **claims: Any) -> str:
    return openid.sign({**openid.claims(APP_ID, world.connector.base), **claims})


async def test_a_valid_token_is_accepted_and_answers_carry_the_bots_own_token(
    secure: tuple[World, OpenIdStandIn],
) -> None:
    world, openid = secure
    for text in ("read web-01", "read web-02"):
        response = await world.teams.post(world.teams.channel_message(text), token=signed(openid, world))
        assert response.status == 201
    assert CALLS == [("read", "web-01"), ("read", "web-02")]
    replies = world.connector.posted()
    assert len(replies) == 2 and "fine on web-02" in texts(card_of(replies[1].body))
    [token] = openid.issued  # one outbound token, reused across turns
    assert {c.authorization for c in world.connector.calls} == {f"Bearer {token}"}
    assert "GET /keys" in openid.requests


async def test_an_approval_click_with_a_valid_token_runs_once(secure: tuple[World, OpenIdStandIn]) -> None:
    world, openid = secure
    await world.teams.post(world.teams.channel_message("write web-01"), token=signed(openid, world))
    [prompt] = world.connector.posted()
    approve = card_of(prompt.body)["actions"][0]
    card_id = next(i for i, body in world.connector.messages.items() if body is prompt.body)
    invoke = world.teams.invoke("approve", approve["data"]["execution_id"], (prompt.conversation, card_id))
    response = await world.teams.post(invoke, token=signed(openid, world))
    assert response.status == 200
    assert "Approved by Bob Approver" in texts((await response.json())["value"])
    assert CALLS == [("write", "web-01")]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda o, w: None, id="no-token"),
        pytest.param(lambda o, w: signed(o, w, exp=1_700_000_000, nbf=1_699_990_000), id="expired"),
        pytest.param(lambda o, w: o.rogue_sign(o.claims(APP_ID, w.connector.base)), id="wrong-key"),
        pytest.param(lambda o, w: signed(o, w, aud="another-bots-app-id"), id="wrong-audience"),
        pytest.param(lambda o, w: signed(o, w, iss="https://sts.example.com/"), id="wrong-issuer"),
        pytest.param(lambda o, w: signed(o, w, serviceurl="http://127.0.0.1:9/"), id="other-service-url"),
        pytest.param(lambda o, w: signed(o, w, serviceurl=None), id="no-service-url"),
        pytest.param(
            lambda o, w: o.sign(o.claims(APP_ID, w.connector.base), kid="unknown"), id="unknown-key-id"
        ),
        pytest.param(lambda o, w: "not.a.jwt", id="garbage"),
    ],
)
async def test_requests_without_a_valid_token_answer_401_and_run_nothing(
    secure: tuple[World, OpenIdStandIn], forge: Any
) -> None:
    world, openid = secure
    token = forge(openid, world)
    activity = world.teams.channel_message("read web-01")
    response = await world.teams.post(activity, token=token or "")
    assert response.status == 401
    invoke = world.teams.invoke("approve", "abc123", (activity["conversation"]["id"], "1"))
    assert (await world.teams.post(invoke, token=token or "")).status == 401
    assert CALLS == [] and world.connector.calls == [] and world.store.executions == {}
    assert openid.issued == []


async def test_without_an_app_id_requests_need_no_token_but_refuse_one(world: World) -> None:
    assert (await world.teams.post(world.teams.personal_message("read web-01"))).status == 201
    forged = await world.teams.post(
        world.teams.personal_message("read web-02"), token="eyJhbGciOiJub25lIn0.e30."
    )
    assert forged.status == 401
    assert CALLS == [("read", "web-01")]
    assert {c.authorization for c in world.connector.calls} == {None}
