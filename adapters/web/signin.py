"""Who the browser is: the console's sign-in, its session cookie, CSRF, and sign-out.

    GET  /ui/login            "Sign in with Keycloak" when a realm is set; an API token always
    POST /ui/login            an API token -> the session cookie holds it
    GET  /ui/oidc/start       a new state, nonce and PKCE verifier -> 303 to the realm (state cookie, 10 min)
    GET  /ui/oidc/callback    state checked against the browser's cookie, code exchanged -> a session
    POST /ui/logout           forgets the session; a Keycloak session is ended at the realm too

The session cookie (`oc_session`) is HttpOnly, SameSite=Strict, path /ui, Secure in production.
It holds an API token or the id of a server-side Keycloak session (adapters.web.oidc_client).
Because a Strict cookie is not sent on the navigation that returns from another site, the
callback answers a small page that moves on to /ui/ itself (a same-site navigation).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from typing import Any

from aiohttp import web

from adapters.api.auth import Caller, InvalidToken
from adapters.api.routes import BACKEND, ApiBackend
from adapters.web.oidc_client import SESSION_PREFIX, OidcSignIn, SignInFailed, new_secret
from adapters.web.pages import page
from pipeline.errors import RateLimited

COOKIE = "oc_session"
STATE_COOKIE = "oc_oidc_state"
CALLBACK = "/ui/oidc/callback"
SECURE = web.AppKey("secure_cookie", bool)
SIGNIN = web.AppKey("oidc_signin", OidcSignIn)
PUBLIC_URL = web.AppKey("public_url", str)


def add_signin(app: web.Application) -> None:
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_get("/oidc/start", keycloak_start)
    app.router.add_get("/oidc/callback", keycloak_callback)
    app.router.add_post("/logout", logout)


def csrf_of(session: str) -> str:
    return hashlib.sha256(b"opsconductor-csrf\0" + session.encode()).hexdigest()[:32]


async def check_csrf(request: web.Request, session: str) -> Any:
    form = await request.post()
    if not hmac.compare_digest(str(form.get("csrf", "")).encode(), csrf_of(session).encode()):
        raise web.HTTPForbidden(text="The form is stale or came from another site; reload the page.")
    return form


async def signed_in(request: web.Request) -> tuple[Caller, str]:
    """The caller behind the session cookie; a redirect to the sign-in page otherwise."""
    session = request.cookies.get(COOKIE, "")
    api = request.app[BACKEND]
    found = await _session_caller(request, session) if session else None
    if found is None:
        raise web.HTTPSeeOther("/ui/login")
    if api.admission is not None:
        try:
            await api.admission.admit(token=found.token_id, person=found.principal.subject)
        except RateLimited as err:
            raise web.HTTPTooManyRequests(text=f"Over the rate limit: {err}.") from None
    return found, session


async def _session_caller(request: web.Request, session: str) -> Caller | None:
    if session.startswith(SESSION_PREFIX):
        signin = request.app.get(SIGNIN)
        return await signin.caller(session) if signin is not None else None
    return await _authenticate(request.app[BACKEND], session)


async def _authenticate(api: ApiBackend, token: str) -> Caller | None:
    for authenticator in api.authenticators:
        try:
            found = await authenticator.authenticate(token)
        except InvalidToken:
            return None
        if found is not None:
            return found
    return None


def sign_in_page(request: web.Request, status: int = 200, flash: str = "") -> web.Response:
    keycloak = request.app.get(SIGNIN) is not None
    return page("login.html.j2", status, title="Sign in", flash=flash, keycloak=keycloak)


async def login_page(request: web.Request) -> web.Response:
    return sign_in_page(request, flash=request.query.get("flash", ""))


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    token = str(form.get("token", "")).strip()
    if (
        not token
        or token.startswith(SESSION_PREFIX)
        or await _authenticate(request.app[BACKEND], token) is None
    ):
        return sign_in_page(request, 401, "That token is unknown, expired or revoked.")
    response = web.HTTPSeeOther("/ui/")
    _set_session(request, response, token)
    raise response


async def keycloak_start(request: web.Request) -> web.Response:
    signin = request.app.get(SIGNIN)
    if signin is None:
        raise web.HTTPNotFound(text="No Keycloak realm is configured (api.oidc_issuer).")
    state = new_secret()
    try:
        url = await signin.begin(_site(request) + CALLBACK, state, new_secret(), new_secret())
    except SignInFailed as err:
        return sign_in_page(request, 503, str(err))
    response = web.HTTPSeeOther(url)
    # Lax: it must come back on the realm's redirect, a cross-site navigation
    _set_cookie(request, response, (STATE_COOKIE, state, "/ui/oidc"), samesite="Lax", max_age=600)
    raise response


async def keycloak_callback(request: web.Request) -> web.Response:
    signin = request.app.get(SIGNIN)
    if signin is None:
        raise web.HTTPNotFound(text="No Keycloak realm is configured (api.oidc_issuer).")
    q = request.query
    state, expected = q.get("state", ""), request.cookies.get(STATE_COOKIE, "")
    if not state or not hmac.compare_digest(state.encode(), expected.encode()):
        return sign_in_page(request, 400, "This sign-in did not start in this browser; sign in again.")
    if q.get("iss") and q["iss"] != signin.config.issuer.rstrip("/"):  # RFC 9207: not our realm's answer
        return sign_in_page(request, 400, "The sign-in answer came from another issuer; sign in again.")
    if "error" in q:
        return sign_in_page(
            request, 401, f"Keycloak did not sign you in: {q.get('error_description') or q['error']}."
        )
    try:
        session = await signin.finish(state, q.get("code", ""))
    except SignInFailed as err:
        return sign_in_page(request, 401, str(err))
    response = page("signed_in.html.j2", title="Signed in")
    _set_session(request, response, session)
    response.del_cookie(STATE_COOKIE, path="/ui/oidc")
    return response


async def logout(request: web.Request) -> web.Response:
    _, session = await signed_in(request)
    await check_csrf(request, session)
    target = "/ui/login"
    signin = request.app.get(SIGNIN)
    if signin is not None and session.startswith(SESSION_PREFIX):
        with contextlib.suppress(SignInFailed):  # forgotten here at least; the realm's session times out
            target = await signin.end(session, _site(request) + "/ui/login")
    response = web.HTTPSeeOther(target)
    response.del_cookie(COOKIE, path="/ui")
    raise response


def _set_session(request: web.Request, response: web.StreamResponse, value: str) -> None:
    _set_cookie(request, response, (COOKIE, value, "/ui"), samesite="Strict", max_age=8 * 3600)


def _set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    cookie: tuple[str, str, str],
    samesite: str,
    max_age: int,
) -> None:
    name, value, path = cookie
    secure = request.app[SECURE]
    response.set_cookie(
        name, value, httponly=True, samesite=samesite, path=path, secure=secure, max_age=max_age
    )


def _site(request: web.Request) -> str:
    """Where the browser reaches the console: `api.public_url`, else this request's own origin."""
    return request.app[PUBLIC_URL].rstrip("/") or f"{request.scheme}://{request.host}"
