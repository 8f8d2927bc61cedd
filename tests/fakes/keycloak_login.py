"""A stand-in for a Keycloak realm's browser sign-in (OpenID Connect authorization code + PKCE).

Adds to the realm stand-in (tests/fakes/keycloak_realm.py) what a relying party and a browser
talk to, shaped like Keycloak 24's answers:

    GET  .../.well-known/openid-configuration      authorization, token, end-session endpoints too
    GET  .../protocol/openid-connect/auth          checks client, redirect_uri, PKCE S256; login form
    POST /realms/<realm>/login-actions/authenticate   username + password -> 302 redirect_uri?code&state
    POST .../protocol/openid-connect/token         authorization_code (verifier, redirect_uri, client
                                                   secret) and refresh_token grants
    GET  .../protocol/openid-connect/logout        RP-initiated logout (id_token_hint,
                                                   post_logout_redirect_uri) ends the SSO session

Like Keycloak, an unknown client or an unregistered redirect_uri gets an error page (never a
redirect), a code is single-use and short-lived, a code verifier that does not hash to the
challenge fails with `invalid_grant`, and an SSO session (the KEYCLOAK_SESSION cookie) signs the
browser in again without the form until it logs out. Every request is kept in `requests`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.keycloak_realm import KeycloakRealmStandIn

CODE_LIFETIME_S = 60
SSO_COOKIE = "KEYCLOAK_SESSION"


@dataclass
class RealmUser:
    username: str
    password: str
    subject: str
    realm_roles: tuple[str, ...] = ()
    client_roles: tuple[str, ...] = ()


@dataclass
class RealmClient:
    client_id: str
    secret: str = ""  # empty: a public client
    redirect_uris: list[str] = field(default_factory=list)
    post_logout_redirect_uris: list[str] = field(default_factory=list)


@dataclass
class _Code:
    user: RealmUser
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    session: str
    expires: float


class KeycloakLoginStandIn(KeycloakRealmStandIn):
    """`add_user` and `add_client`, then point a browser at the relying party."""

    def __init__(self, realm: str = "opsconductor", client_id: str = "opsconductor-api") -> None:
        super().__init__(realm, client_id)
        self.users: dict[str, RealmUser] = {}
        self.clients: dict[str, RealmClient] = {}
        self.requests: list[str] = []
        self.access_lifetime_s = 300
        self.wrong_nonce = False  # issue ID tokens with another nonce (a replayed or injected token)
        self._attempts: dict[str, dict[str, str]] = {}  # session_code -> the auth request's parameters
        self._codes: dict[str, _Code] = {}
        self._sessions: dict[str, RealmUser] = {}  # SSO sessions by id
        self._refresh: dict[str, tuple[str, str]] = {}  # refresh token -> (session, client)

    def add_user(self, user: RealmUser) -> None:
        """Adds or changes a user; their SSO sessions see the change (new roles at the next refresh)."""
        self.users[user.username] = user
        for session, signed_in in self._sessions.items():
            if signed_in.username == user.username:
                self._sessions[session] = user

    def end_sessions(self) -> None:
        """An administrator signs everyone out (Keycloak's "Sign out all active sessions")."""
        self._sessions.clear()

    def add_client(self, client: RealmClient) -> None:
        self.clients[client.client_id] = client

    @property
    def oidc(self) -> str:
        return f"{self.issuer}/protocol/openid-connect"

    def metadata(self) -> dict[str, Any]:
        return {
            **super().metadata(),
            "authorization_endpoint": f"{self.oidc}/auth",
            "token_endpoint": f"{self.oidc}/token",
            "end_session_endpoint": f"{self.oidc}/logout",
            "response_types_supported": [
                "code",
                "none",
                "id_token",
                "token",
                "id_token token",
                "code id_token",
            ],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "roles"],
        }

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(self._record)
        app.router.add_get(f"/realms/{self.realm}/protocol/openid-connect/auth", self._auth)
        app.router.add_post(f"/realms/{self.realm}/login-actions/authenticate", self._login)
        app.router.add_post(f"/realms/{self.realm}/protocol/openid-connect/token", self._token)
        app.router.add_get(f"/realms/{self.realm}/protocol/openid-connect/logout", self._logout)
        app.router.add_get("/favicon.ico", self._favicon)  # browsers ask every site for one

    async def _favicon(self, _: web.Request) -> web.Response:
        return web.Response(status=404)

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        response: web.StreamResponse = await handler(request)
        return response

    # ------------------------------------------------------------------ the browser's side

    async def _auth(self, request: web.Request) -> web.Response:
        q = request.query
        client = self.clients.get(q.get("client_id", ""))
        if client is None:
            return _error_page("Client not found.")
        if q.get("redirect_uri") not in client.redirect_uris:
            return _error_page("Invalid parameter: redirect_uri")
        problem = _auth_problem(q)
        if problem:
            return _redirect(
                q["redirect_uri"], error="invalid_request", error_description=problem, state=q.get("state")
            )
        sso = self._sessions.get(request.cookies.get(SSO_COOKIE, ""))
        if sso is not None:  # signed in at the realm already: straight back with a code
            return self._code_redirect(dict(q), sso, request.cookies[SSO_COOKIE])
        session_code = secrets.token_urlsafe(16)
        self._attempts[session_code] = dict(q)
        return _login_form(self.realm, session_code, client.client_id, "")

    async def _login(self, request: web.Request) -> web.Response:
        session_code = request.query.get("session_code", "")
        attempt = self._attempts.get(session_code)
        if attempt is None:
            return _error_page("Your login attempt timed out. Login will start from the beginning.")
        form = await request.post()
        user = self.users.get(str(form.get("username", "")))
        if user is None or not secrets.compare_digest(user.password, str(form.get("password", ""))):
            return _login_form(
                self.realm, session_code, attempt["client_id"], "Invalid username or password."
            )
        del self._attempts[session_code]
        session = secrets.token_hex(16)
        self._sessions[session] = user
        response = self._code_redirect(attempt, user, session)
        response.set_cookie(SSO_COOKIE, session, path=f"/realms/{self.realm}/", httponly=True, samesite="Lax")
        return response

    def _code_redirect(self, q: dict[str, str], user: RealmUser, session: str) -> web.Response:
        code = f"{secrets.token_hex(16)}.{session}.{q['client_id']}"
        self._codes[code] = _Code(
            user,
            q["client_id"],
            q["redirect_uri"],
            q["code_challenge"],
            q.get("nonce", ""),
            session,
            time.time() + CODE_LIFETIME_S,
        )
        return _redirect(
            q["redirect_uri"], state=q.get("state"), session_state=session, iss=self.issuer, code=code
        )

    async def _logout(self, request: web.Request) -> web.Response:
        q = request.query
        hint = self._hint(q.get("id_token_hint", ""))
        client = self.clients.get(q.get("client_id", "") or (hint or {}).get("azp", ""))
        target = q.get("post_logout_redirect_uri", "")
        if client is None or (target and target not in client.post_logout_redirect_uris):
            return _error_page("Invalid redirect uri")
        if hint is None:
            return _error_page("Do you want to log out?")  # Keycloak asks when the RP sends no valid hint
        self._sessions.pop(str(hint.get("sid", "")), None)
        response = (
            _redirect(target, state=q.get("state")) if target else web.Response(text="You are logged out")
        )
        response.del_cookie(SSO_COOKIE, path=f"/realms/{self.realm}/")
        return response

    def _hint(self, token: str) -> dict[str, Any] | None:
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False},
            )
        except jwt.PyJWTError:
            return None
        return claims if claims.get("iss") == self.issuer else None

    # ------------------------------------------------------------------ the relying party's side

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        client = self._client_auth(request, form)
        if client is None:
            return web.json_response(
                {
                    "error": "unauthorized_client",
                    "error_description": "Invalid client or Invalid client credentials",
                },
                status=401,
            )
        if form.get("grant_type") == "authorization_code":
            return self._exchange(client, form)
        if form.get("grant_type") == "refresh_token":
            return self._refreshed(client, form)
        return _grant_error("unsupported_grant_type", "Unsupported grant_type")

    def _client_auth(self, request: web.Request, form: dict[str, str]) -> RealmClient | None:
        basic = request.headers.get("Authorization", "")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if basic.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        client = self.clients.get(client_id)
        if client is None or (client.secret and not secrets.compare_digest(client.secret, secret)):
            return None
        return client

    def _exchange(self, client: RealmClient, form: dict[str, str]) -> web.Response:
        code = self._codes.pop(form.get("code", ""), None)  # single use, even when it then fails
        if code is None or code.expires < time.time() or code.session not in self._sessions:
            return _grant_error("invalid_grant", "Code not valid")
        if code.client_id != client.client_id:
            return _grant_error("invalid_grant", "Auth error")
        if form.get("redirect_uri") != code.redirect_uri:
            return _grant_error("invalid_grant", "Incorrect redirect_uri")
        verifier = form.get("code_verifier", "")
        if not verifier:
            return _grant_error("invalid_grant", "PKCE code verifier not specified")
        if _s256(verifier) != code.challenge:
            return _grant_error("invalid_grant", "PKCE verification failed: Code mismatch")
        nonce = "someone-elses-nonce" if self.wrong_nonce else code.nonce
        return web.json_response(self._tokens(code.user, client, code.session, nonce))

    def _refreshed(self, client: RealmClient, form: dict[str, str]) -> web.Response:
        session, client_id = self._refresh.pop(form.get("refresh_token", ""), ("", ""))
        user = self._sessions.get(session)
        if client_id != client.client_id or user is None:
            return _grant_error("invalid_grant", "Session not active")
        return web.json_response(self._tokens(user, client, session, None))

    def _tokens(
        self, user: RealmUser, client: RealmClient, session: str, nonce: str | None
    ) -> dict[str, Any]:
        access = self.claims(
            user.subject,
            realm_roles=user.realm_roles,
            client_roles=user.client_roles,
            lifetime_s=self.access_lifetime_s,
            azp=client.client_id,
            sid=session,
            preferred_username=user.username,
            scope="openid profile email",
        )
        refresh = secrets.token_urlsafe(24)
        self._refresh[refresh] = (session, client.client_id)
        answer: dict[str, Any] = {
            "access_token": self.sign(access),
            "expires_in": self.access_lifetime_s,
            "refresh_expires_in": 1800,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": session,
            "scope": "openid profile email",
        }
        if nonce is not None:  # Keycloak sends an ID token on refresh too, without the nonce
            id_claims = {
                **access,
                "aud": client.client_id,
                "typ": "ID",
                "nonce": nonce,
                "auth_time": access["iat"],
            }
            for key in ("realm_access", "resource_access", "scope"):
                id_claims.pop(key, None)
            answer["id_token"] = self.sign(id_claims)
        return answer


def _auth_problem(q: Any) -> str:
    if q.get("response_type") != "code":
        return "Invalid parameter: response_type"
    if "openid" not in q.get("scope", "").split():
        return "Missing parameter: scope openid"  # no ID token without it
    if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
        return "Missing parameter: code_challenge_method"  # the client's policy: PKCE with S256
    return ""


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _redirect(to: str, **params: str | None) -> web.Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    joined = f"{to}{'&' if '?' in to else '?'}{query}" if query else to
    return web.Response(status=302, headers={"Location": joined})


def _grant_error(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=400)


def _error_page(message: str) -> web.Response:
    body = f"<!doctype html><title>Error</title><p id='kc-error-message'>{html.escape(message)}</p>"
    return web.Response(text=body, content_type="text/html", status=400)


def _login_form(realm: str, session_code: str, client_id: str, error: str) -> web.Response:
    action = f"/realms/{realm}/login-actions/authenticate?" + urlencode(
        {"session_code": session_code, "client_id": client_id, "tab_id": "t1"}
    )
    alert = f"<span id='input-error'>{html.escape(error)}</span>" if error else ""
    body = (
        "<!doctype html><title>Sign in to opsconductor</title>"
        "<h1 id='kc-page-title'>Sign in to your account</h1>"
        f"{alert}<form id='kc-form-login' method='post' action='{html.escape(action)}'>"
        "<label for='username'>Username or email</label><input id='username' name='username'>"
        "<label for='password'>Password</label><input id='password' name='password' type='password'>"
        "<input type='submit' id='kc-login' name='login' value='Sign In'></form>"
    )
    return web.Response(text=body, content_type="text/html", status=200 if not error else 401)
