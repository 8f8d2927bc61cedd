"""Hole 1: production refuses to start unless every enabled inbound door verifies its callers,
and a production `serve` rejects unauthenticated and forged requests on the real endpoints.

Every case is a real `opsconductor serve` process configured through the environment only."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.openid_server import OpenIdStandIn
from tests.security.serve import Serve, base_env, production, run_once

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
APP_ID = "5a1c0b7e-0000-4d1e-9c3a-00000000a11d"
SECRET = "a-real-slack-signing-secret"
TEAMS_ON = {"teams__enabled": "true"}
SLACK_ON = {"slack__enabled": "true", "slack__bot_token": "xoxb-real-token-1234"}


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        pytest.param(
            {**TEAMS_ON, "teams__app_password": "a-real-app-password"},
            "teams.app_id",
            id="teams-password-no-app-id",
        ),
        pytest.param(
            {**TEAMS_ON, "teams__app_id": APP_ID}, "teams.app_password", id="teams-app-id-no-credential"
        ),
        pytest.param(
            {**TEAMS_ON, "teams__app_id": APP_ID, "teams__app_password": "changeme"},
            "teams.app_password",
            id="teams-placeholder-password",
        ),
        pytest.param(
            {
                **TEAMS_ON,
                "teams__app_id": APP_ID,
                "teams__app_password": "pw-real-1",
                "teams__app_type": "SingleTenant",
            },
            "teams.app_tenant_id",
            id="teams-single-tenant-without-tenant",
        ),
        pytest.param(
            {
                **TEAMS_ON,
                "teams__app_id": APP_ID,
                "teams__app_password": "a-real-app-password",
                "teams__openid_metadata_url": "http://metadata.example.com/.well-known/openid-configuration",
            },
            "teams.openid_metadata_url",
            id="teams-metadata-over-plain-http",
        ),
        pytest.param(SLACK_ON, "slack.signing_secret", id="slack-http-no-signing-secret"),
        pytest.param(
            {**SLACK_ON, "slack__mode": "socket", "slack__signing_secret": SECRET},
            "slack.app_token",
            id="slack-socket-no-app-token",
        ),
    ],
)
def test_production_serve_with_an_unverified_door_exits_with_one_line(
    tmp_path: Path, settings: dict[str, str], names: str
) -> None:
    done = run_once(production(tmp_path, **settings), "serve", timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: settings: ")
    assert "would not verify its callers" in lines[0] or "set teams.app_id" in lines[0]
    assert names in lines[0]
    assert not (tmp_path / "opsconductor.db").exists()  # refused before anything was created


def test_a_password_without_an_app_id_is_refused_in_development_too(tmp_path: Path) -> None:
    env = base_env(tmp_path, teams__enabled="true", teams__app_password="a-real-app-password")
    done = run_once(env, "serve", timeout=60)
    assert done.returncode == 1
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert "teams.app_id is empty" in line and "Traceback" not in done.stderr


@pytest.fixture
def openid() -> Iterator[OpenIdStandIn]:
    stand_in = OpenIdStandIn(client_id=APP_ID, client_secret="a-real-app-password")
    stand_in.start()
    yield stand_in
    stand_in.close()


@pytest.fixture
def server(tmp_path: Path, openid: OpenIdStandIn) -> Iterator[Serve]:
    env = production(
        tmp_path,
        **TEAMS_ON,
        teams__app_id=APP_ID,
        teams__app_password="a-real-app-password",
        teams__openid_metadata_url=openid.metadata_url,
        teams__login_authority=f"{openid.base}/botframework.com",  # never the real cloud
        **SLACK_ON,
        slack__signing_secret=SECRET,
        slack__api_base_url="http://127.0.0.1:9/api/",
    )
    serve = Serve(env, tmp_path / "serve.log").start()
    yield serve
    serve.stop()


def activity(kind: str, service_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "id": f"act-{time.monotonic_ns()}",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": "29:1attacker", "name": "Mallory", "aadObjectId": "aad-0001-alice"},
        "recipient": {"id": f"28:{APP_ID}", "name": "OpsConductor"},
        "conversation": {"conversationType": "personal", "id": "a:1personal"},
        "channelData": {"tenant": {"id": "8f3c0f6e-1111-4a55-9d41-5b7a2f0e9c01"}},
        **extra,
    }


def slack_headers(body: str, secret: str) -> dict[str, str]:
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


async def test_production_serve_rejects_unauthenticated_and_forged_requests(
    server: Serve, openid: OpenIdStandIn, tmp_path: Path
) -> None:
    service_url = "http://127.0.0.1:9/"
    message = activity("message", service_url, text='run "touch /tmp/pwned" on web-01')
    invoke = activity(
        "invoke",
        service_url,
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "approve", "data": {"execution_id": "0" * 32}}},
    )
    claims = openid.claims(APP_ID, service_url)
    forged = {
        "no token": None,
        "forged signature": openid.rogue_sign(claims),
        "another bot's audience": openid.sign({**claims, "aud": "another-bots-app-id"}),
        "unsigned (alg none)": "eyJhbGciOiJub25lIn0.e30.",
    }
    async with aiohttp.ClientSession() as http:
        for what, token in forged.items():
            for body in (message, invoke):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with http.post(f"{server.url}/api/messages", json=body, headers=headers) as answer:
                    assert answer.status == 401, (what, body["type"], await answer.text())
        event = json.dumps({"type": "event_callback", "team_id": "T1", "event": {"type": "app_mention"}})
        for headers in ({"Content-Type": "application/json"}, slack_headers(event, "a-guessed-secret")):
            async with http.post(f"{server.url}/slack/events", data=event, headers=headers) as answer:
                assert answer.status == 401
        challenge = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
        async with http.post(
            f"{server.url}/slack/events", data=challenge, headers=slack_headers(challenge, SECRET)
        ) as answer:
            assert answer.status == 200 and "c-123" in await answer.text()  # the door itself works
    db = sqlite3.connect(tmp_path / "opsconductor.db")
    try:
        assert db.execute("select count(*) from executions").fetchone() == (0,)
        assert db.execute("select count(*) from assets").fetchone() == (0,)  # hole 11: no demo seed
    finally:
        db.close()
    assert "Traceback" not in server.output()
