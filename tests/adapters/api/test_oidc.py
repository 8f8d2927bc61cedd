"""Keycloak access tokens on the HTTP API, against a stand-in realm on loopback that signs
real RS256 JWTs (tests/fakes/keycloak_realm.py): issuer, audience, expiry, signature, roles."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest

from tests.adapters.api.conftest import Api, api_settings, serve_api
from tests.adapters.api.test_api import RESTART, assert_problem, operations
from tests.fakes.keycloak_realm import KeycloakRealmStandIn

ALICE = "alice-0c1d"  # Keycloak user ids (subjects)
BOB = "bob-7e2f"
VERA = "vera-9a3b"


@pytest.fixture
async def realm() -> AsyncIterator[KeycloakRealmStandIn]:
    stand_in = KeycloakRealmStandIn()
    await stand_in.start()
    yield stand_in
    await stand_in.close()
    assert stand_in.unexpected == []


@pytest.fixture
async def api(realm: KeycloakRealmStandIn, tmp_path: Path) -> AsyncIterator[Api]:
    settings = api_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path}/api.db",
        api={"oidc_issuer": realm.issuer, "oidc_audience": realm.client_id},
    )
    async for running in serve_api(settings):
        running.tokens = {
            "alice": realm.sign(realm.claims(ALICE, realm_roles=("operator", "viewer"))),
            "bob": realm.sign(realm.claims(BOB, realm_roles=("viewer",), client_roles=("approver",))),
            "vera": realm.sign(realm.claims(VERA, realm_roles=("viewer",))),
        }
        yield running


async def test_realm_tokens_give_the_subject_and_realm_and_client_roles(api: Api) -> None:
    status, me, _ = await api.call("GET", "/me", as_="bob")
    assert status == 200, me
    assert me == {"subject": BOB, "display_name": "bob", "roles": ["approver", "viewer"], "via": "oidc"}
    status, body, _ = await api.call("POST", "/requests", as_="vera", json={"text": "list the web servers"})
    assert status == 200 and body["outcome"] == "answer", body


async def test_expired_forged_foreign_and_wrong_audience_tokens_are_refused_everywhere(
    api: Api, realm: KeycloakRealmStandIn
) -> None:
    base = realm.claims(ALICE, realm_roles=("admin", "operator", "viewer"))
    bad = {
        "expired": realm.sign({**base, "exp": int(base["iat"]) - 120, "iat": int(base["iat"]) - 600}),
        "forged": realm.rogue_sign(base),
        "audience": realm.sign({**base, "azp": "another-client", "aud": ["another-client"]}),
        "issuer": realm.sign({**base, "iss": realm.base + "/realms/other"}),
        "unknown key": realm.sign(base, kid="not-a-realm-key"),
        "hs256": jwt.encode(
            base, "secret-known-to-nobody-but-me-0123456789", algorithm="HS256", headers={"kid": "x"}
        ),
        "no subject": realm.sign({k: v for k, v in base.items() if k != "sub"}),
    }
    ops = await operations(api)
    for method, path in ops:
        for why, token in bad.items():
            status, body, resp = await api.call(
                method, path, as_=None, headers={"Authorization": f"Bearer {token}"}, json={}
            )
            assert_problem(status, body, resp, 401)
            assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"], why
    # the realm's keys are fetched once; unknown key ids do not fetch them again within 10 s
    assert realm.cert_requests == 1
    _, body, _ = await api.call("GET", "/me", as_=None, headers={"Authorization": f"Bearer {bad['expired']}"})
    assert "expired" in body["detail"]
    _, body, _ = await api.call(
        "GET", "/me", as_=None, headers={"Authorization": f"Bearer {bad['audience']}"}
    )
    assert "audience" in body["detail"]


async def test_approval_between_realm_users_outlives_the_requesters_token(
    api: Api, realm: KeycloakRealmStandIn
) -> None:
    api.tokens["alice"] = realm.sign(realm.claims(ALICE, realm_roles=("operator", "viewer"), lifetime_s=1))
    status, body, _ = await api.call("POST", "/requests", json=RESTART)
    assert status == 202, body
    execution_id, digest = body["execution_id"], body["digest"]
    for viewer in ("vera", "alice"):  # a viewer, and the requester herself (no approver role)
        status, answer, resp = await api.call(
            "POST", f"/executions/{execution_id}/approve", as_=viewer, json={"digest": digest}
        )
        assert_problem(status, answer, resp, 403)
    status, answer, _ = await api.call(
        "POST", f"/executions/{execution_id}/approve", as_="bob", json={"digest": digest}
    )
    assert status in (200, 202) and answer["state"] == "approved", answer
    _, detail, _ = await api.call("GET", f"/executions/{execution_id}", as_="bob")
    assert detail["person"] == ALICE and detail["status"] in ("running", "succeeded", "failed")
    assert [a["actor"] for a in detail["audit"] if a["event"] == "approval.approved"] == [BOB]


def test_production_refuses_a_plain_http_realm_off_loopback(tmp_path: Path) -> None:
    from bot.settings import Settings

    with pytest.raises(ValueError, match=re.escape("api.oidc_issuer must be an https URL")):
        Settings(
            home=tmp_path,
            security={"environment": "production", "credential_key": "A" * 43 + "="},
            api={"oidc_issuer": "http://keycloak.example/realms/ops"},
        )
