"""The console's "Sign in with Keycloak": authorization code + PKCE against a stand-in realm on
loopback (tests/fakes/keycloak_login.py) that checks what Keycloak checks, driven first by the
real browser (Debian's chromium through Selenium), then protocol edge cases over plain HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.adapters.api.conftest import Api, api_settings, serve_api
from tests.adapters.web.browsing import in_thread, wait_for_text
from tests.adapters.web.test_console import UPDATE
from tests.fakes.keycloak_login import KeycloakLoginStandIn, RealmClient, RealmUser

pytestmark = [pytest.mark.timeout(180)]

CLIENT, SECRET = "opsconductor-api", "console-client-secret-0123456789"
ADAM = RealmUser("adam", "adam-pass", "adam-5d1e", realm_roles=("admin", "operator", "viewer"))
BOB = RealmUser("bob", "bob-pass", "bob-7e2f", realm_roles=("viewer",), client_roles=("approver",))
VERA = RealmUser("vera", "vera-pass", "vera-9a3b", realm_roles=("viewer",))


@pytest.fixture
async def realm() -> AsyncIterator[KeycloakLoginStandIn]:
    stand_in = KeycloakLoginStandIn(client_id=CLIENT)
    for user in (ADAM, BOB, VERA):
        stand_in.add_user(user)
    await stand_in.start()
    yield stand_in
    await stand_in.close()
    assert stand_in.unexpected == []


@pytest.fixture
async def api(realm: KeycloakLoginStandIn, tmp_path: Path) -> AsyncIterator[Api]:
    settings = api_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path}/api.db",
        api={"oidc_issuer": realm.issuer, "oidc_audience": CLIENT, "console_client_secret": SECRET},
    )
    async for running in serve_api(settings):
        site = running.url.removesuffix("/api/v1")
        realm.add_client(RealmClient(CLIENT, SECRET, [site + "/ui/oidc/callback"], [site + "/ui/login"]))
        running.tokens["adam"] = realm.sign(realm.claims(ADAM.subject, realm_roles=ADAM.realm_roles))
        yield running


@pytest.mark.slow
async def test_sign_in_with_keycloak_approve_and_sign_out_in_a_real_browser(
    api: Api, realm: KeycloakLoginStandIn, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    status, body, _ = await api.call("POST", "/requests", as_="adam", json=UPDATE)
    assert status == 202, body
    execution_id, site = body["execution_id"], api.url.removesuffix("/api/v1")

    await in_thread(browser.get, site + "/ui/")
    assert browser.current_url.endswith("/ui/login")
    await in_thread(lambda: browser.find_element(By.ID, "keycloak").click())
    await wait_for_text(browser, "#kc-page-title", "Sign in to your account")
    assert browser.current_url.startswith(realm.oidc + "/auth?")
    asked = parse_qs(urlsplit(browser.current_url).query)
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["state"] != asked["nonce"] and "openid" in asked["scope"][0].split()

    await _realm_form(browser, "bob", "not-his-password")
    await wait_for_text(browser, "#input-error", "Invalid username or password.")
    await _realm_form(browser, "bob", "bob-pass")
    await wait_for_text(browser, "h1", "Pending approvals")
    assert "bob (approver, viewer)" in await in_thread(
        lambda: browser.find_element(By.TAG_NAME, "header").text
    )
    (session,) = [c for c in await in_thread(browser.get_cookies) if c["name"] == "oc_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/ui"
    assert session["value"].startswith("ocs_")  # an opaque session id: no token in the browser

    card = await in_thread(browser.find_element, By.CSS_SELECTOR, f'[aria-labelledby="p-{execution_id}"]')
    await in_thread(lambda: card.find_element(By.CSS_SELECTOR, "button.approve").click())
    await wait_for_text(browser, "#state", "succeeded")
    _, detail, _ = await api.call("GET", f"/executions/{execution_id}", as_="adam")
    assert [a["actor"] for a in detail["audit"] if a["event"] == "approval.approved"] == [BOB.subject]

    await in_thread(lambda: browser.find_element(By.CSS_SELECTOR, "header button[type=submit]").click())
    await wait_for_text(browser, "h1", "Sign in")
    assert browser.current_url == site + "/ui/login"
    await in_thread(browser.get, site + "/ui/")
    assert browser.current_url.endswith("/ui/login")  # the session is gone here ...
    await in_thread(lambda: browser.find_element(By.ID, "keycloak").click())
    await wait_for_text(browser, "#kc-page-title", "Sign in to your account")  # ... and at the realm
    assert "GET /realms/opsconductor/protocol/openid-connect/logout" in realm.requests


async def _realm_form(browser: Any, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    for field, value in (("username", username), ("password", password)):
        element = await in_thread(browser.find_element, By.ID, field)
        await in_thread(element.clear)
        await in_thread(element.send_keys, value)
    await in_thread(lambda: browser.find_element(By.ID, "kc-login").click())


# ---------------------------------------------------------------------- the protocol over plain HTTP


class Browser:
    """Just enough of a browser: a cookie jar (IP hosts allowed) and redirects followed by hand."""

    def __init__(self, session: aiohttp.ClientSession, site: str) -> None:
        self.session, self.site = session, site

    async def get(self, url: str) -> tuple[int, str, str]:
        """Status, body and Location of one request (redirects not followed)."""
        async with self.session.get(url, allow_redirects=False) as resp:
            return resp.status, await resp.text(), resp.headers.get("Location", "")

    async def to_realm(self) -> str:
        """The realm's login form action URL for a fresh sign-in."""
        status, _, location = await self.get(self.site + "/ui/oidc/start")
        assert status == 303 and location.startswith("http"), location
        _, form, _ = await self.get(location)
        action = re.search(r"action='([^']+)'", form)
        assert action is not None, form
        return urlsplit(location)._replace(path="", query="").geturl() + action.group(1).replace("&amp;", "&")

    async def sign_in(self, user: RealmUser) -> str:
        """Signs `user` in at the realm; the callback URL the realm redirects to."""
        action = await self.to_realm()
        async with self.session.post(
            action, data={"username": user.username, "password": user.password}, allow_redirects=False
        ) as resp:
            assert resp.status == 302, await resp.text()
            return resp.headers["Location"]


@pytest.fixture
async def http(api: Api) -> AsyncIterator[Browser]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Browser(session, api.url.removesuffix("/api/v1"))


async def test_a_callback_is_single_use_and_bound_to_the_browser_that_started_it(
    http: Browser, api: Api
) -> None:
    callback = await http.sign_in(VERA)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        status, body, _ = await Browser(other, http.site).get(callback)  # no state cookie there
    assert status == 400 and "did not start in this browser" in body
    status, body, _ = await http.get(callback)
    assert status == 200 and "Signed in" in body and 'http-equiv="refresh"' in body
    status, body, _ = await http.get(http.site + "/ui/")
    assert status == 200 and "vera (viewer)" in body
    status, body, _ = await http.get(callback)  # the same answer again: the state cookie is gone
    assert status == 400 and "did not start in this browser" in body
    state = parse_qs(urlsplit(callback).query)["state"][0]
    async with http.session.get(callback, headers={"Cookie": f"oc_oidc_state={state}"}) as resp:
        assert resp.status == 401 and "expired or was already used" in await resp.text()  # even with it
    status, body, _ = await http.get(http.site + "/ui/")
    assert status == 200 and "vera (viewer)" in body  # the session that sign-in made is untouched


async def test_an_id_token_for_another_sign_in_is_refused(http: Browser, realm: KeycloakLoginStandIn) -> None:
    realm.wrong_nonce = True
    status, body, _ = await http.get(await http.sign_in(BOB))
    assert status == 401 and "nonce" in body
    status, _, location = await http.get(http.site + "/ui/")
    assert status == 303 and location == "/ui/login"


async def test_the_realm_refusing_is_told_and_the_token_login_still_works(
    http: Browser, realm: KeycloakLoginStandIn, api: Api
) -> None:
    realm.clients[CLIENT].secret = "rotated-at-the-realm-only-0123456789"  # our secret is now wrong
    status, body, _ = await http.get(await http.sign_in(BOB))
    assert status == 401 and "Invalid client or Invalid client credentials" in body
    _, _, location = await http.get(http.site + "/ui/oidc/start")  # the realm answers an error instead
    state = parse_qs(urlsplit(location).query)["state"][0]
    status, body, _ = await http.get(f"{http.site}/ui/oidc/callback?error=access_denied&state={state}")
    assert status == 401 and "did not sign you in: access_denied" in body
    token = await api.token("vera", ["viewer"])
    async with http.session.post(http.site + "/ui/login", data={"token": token}) as resp:
        assert resp.status == 200 and "Pending approvals" in await resp.text()


async def test_roles_follow_the_realm_and_a_session_ended_there_ends_here(
    http: Browser, realm: KeycloakLoginStandIn
) -> None:
    realm.access_lifetime_s = 1  # every page refreshes the tokens at the realm
    await http.get(await http.sign_in(BOB))
    _, body, _ = await http.get(http.site + "/ui/")
    assert "bob (approver, viewer)" in body
    realm.add_user(RealmUser("bob", "bob-pass", BOB.subject, realm_roles=("viewer",)))  # no longer approver
    _, body, _ = await http.get(http.site + "/ui/")
    assert "bob (viewer)" in body
    realm.end_sessions()  # an administrator signs bob out at the realm
    status, _, location = await http.get(http.site + "/ui/")
    assert status == 303 and location == "/ui/login"
    grants = [r for r in realm.requests if r.endswith("/openid-connect/token")]
    assert len(grants) == 4  # the code, two refreshes, the refused one


def test_production_refuses_a_plain_http_public_url(tmp_path: Path) -> None:
    from bot.settings import Settings

    with pytest.raises(ValueError, match=re.escape("api.public_url must be an https URL")):
        Settings(
            home=tmp_path,
            security={"environment": "production", "credential_key": "A" * 43 + "="},
            api={"public_url": "http://ops.example.com"},
        )


async def test_a_page_and_its_stream_refreshing_at_once_spend_the_refresh_token_once(
    http: Browser, realm: KeycloakLoginStandIn
) -> None:
    realm.access_lifetime_s = 1  # expired at once: both requests below need a refresh
    await http.get(await http.sign_in(BOB))
    answers = await asyncio.gather(*(http.get(http.site + "/ui/") for _ in range(3)))
    assert [status for status, _, _ in answers] == [200, 200, 200]  # nobody was signed out
    assert all("bob (approver, viewer)" in body for _, body, _ in answers)
    grants = [r for r in realm.requests if r.endswith("/openid-connect/token")]
    assert len(grants) == 2  # the code, then one refresh that the other two waited for
