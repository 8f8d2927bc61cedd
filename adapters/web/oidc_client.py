"""The web console as an OpenID Connect relying party of the Keycloak realm (authorization code + PKCE).

    url = await signin.begin(redirect_uri, state, nonce, verifier)   # browser goes to the realm
    session_id = await signin.finish(state, code)                     # back at /ui/oidc/callback
    caller = await signin.caller(session_id)                          # every page; refreshes tokens
    logout_url = await signin.end(session_id, post_logout_uri)        # RP-initiated logout

`begin` keeps the request's nonce and PKCE verifier (S256) in the cache under its state for
`pending_s`; `finish` takes them out once (a state, like a code, is single-use), exchanges the
code at the token endpoint (client secret when the client is confidential), checks the ID token
(realm signature, issuer, audience = the console's client, expiry, nonce) and the access token
(`OidcAuthenticator`: roles from realm and client roles, exactly as on the API). The session
lives server-side in the cache (Redis across replicas) under a hash of its id; the browser
holds only the id. When the access token expires the refresh token is used: roles follow the
realm within one access-token lifetime, and a session ended at Keycloak ends here too.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from adapters.api.auth import Caller, InvalidToken
from adapters.api.oidc import OidcAuthenticator, oidc_principal
from pipeline.ports import Cache

SESSION_PREFIX = "ocs_"  # cookie values of Keycloak sessions; anything else is an API token
_PENDING = "ui:oidc:pending:"
_USED = "ui:oidc:used:"
_SESSION = "ui:session:"
_ENDED = b""


class SignInFailed(Exception):
    """The sign-in cannot complete; the message is shown on the sign-in page."""


@dataclass(frozen=True)
class SignInConfig:
    issuer: str  # the realm, as its tokens' `iss` says
    client_id: str  # the console's client at the realm (standard flow, PKCE S256)
    client_secret: str = ""  # empty: a public client
    scope: str = "openid profile email"
    session_s: float = 8 * 3600.0  # at most this long, however long the realm's session lasts
    pending_s: float = 600.0  # time to complete the realm's login form
    refresh_margin_s: float = 10.0


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def new_secret() -> str:
    """State, nonce or verifier: 256 random bits, URL-safe (a verifier of 43 characters)."""
    return secrets.token_urlsafe(32)


class OidcSignIn:
    def __init__(self, config: SignInConfig, tokens: OidcAuthenticator, cache: Cache) -> None:
        self.config = config
        self.tokens = tokens  # checks the realm's signatures; remembers principals for the kernel
        self.cache = cache
        self._endpoints: dict[str, Any] | None = None
        self._refreshing: dict[str, asyncio.Lock] = {}  # session id -> its refresh in progress

    async def begin(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        """The realm's authorization URL for this sign-in attempt."""
        pending = {"nonce": nonce, "verifier": verifier, "redirect_uri": redirect_uri}
        await self.cache.set(_PENDING + state, json.dumps(pending).encode(), ttl_s=self.config.pending_s)
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.config.scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        return f"{await self._endpoint('authorization_endpoint')}?{urlencode(params)}"

    async def finish(self, state: str, code: str) -> str:
        """A new session id for the user the realm signed in; SignInFailed when anything is off."""
        raw = await self.cache.get(_PENDING + state)
        if raw is None or not await self.cache.add(_USED + state, b"1", ttl_s=self.config.pending_s):
            raise SignInFailed("This sign-in has expired or was already used; sign in again.")
        pending = json.loads(raw)
        answer = await self._grant(
            grant_type="authorization_code",
            code=code,
            redirect_uri=pending["redirect_uri"],
            code_verifier=pending["verifier"],
        )
        try:
            claims = await self.tokens.verify(str(answer.get("id_token", "")), self.config.client_id)
        except InvalidToken as err:
            raise SignInFailed(f"The realm's ID token was refused: {err}.") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), pending["nonce"]):
            raise SignInFailed("The realm's ID token was not issued for this sign-in (nonce).")
        caller = await self._caller_of(answer)
        if caller.principal.subject != claims["sub"]:
            raise SignInFailed("The realm's ID and access tokens name different users.")
        session_id = SESSION_PREFIX + new_secret()
        await self._keep(
            session_id, caller, answer, str(answer["id_token"]), time.time() + self.config.session_s
        )
        return session_id

    async def caller(self, session_id: str) -> Caller | None:
        """The session's caller, refreshing its tokens when the access token has expired.

        One refresh per session at a time: a page and its live-progress stream arriving together
        would otherwise both spend the same refresh token, and a realm that rotates refresh
        tokens (Keycloak's "Revoke Refresh Token") would end the session on the second."""
        session = await self._load(session_id)
        if session is None or not self._expired(session):
            return _caller(session) if session is not None else None
        lock = self._refreshing.setdefault(session_id, asyncio.Lock())
        try:
            async with lock:
                return await self._refreshed(session_id, session["refresh_token"])
        finally:
            if not lock.locked():
                self._refreshing.pop(session_id, None)

    def _expired(self, session: dict[str, Any]) -> bool:
        return bool(time.time() >= session["access_exp"] - self.config.refresh_margin_s)

    async def _refreshed(self, session_id: str, seen: str) -> Caller | None:
        session = await self._load(session_id)  # again: the request before may have refreshed it
        if session is None:
            return None
        if session["refresh_token"] != seen:
            return _caller(session)  # refreshed by the request this one waited for
        try:
            answer = await self._grant(grant_type="refresh_token", refresh_token=session["refresh_token"])
            caller = await self._caller_of(answer)
        except SignInFailed:  # the realm ended the session, or the user lost access
            await self.cache.set(_SESSION + _digest(session_id), _ENDED, ttl_s=60)
            return None
        await self._keep(session_id, caller, answer, session["id_token"], session["ends"])
        return caller

    async def end(self, session_id: str, post_logout_uri: str) -> str:
        """Forgets the session here; the realm's logout URL that ends it there too."""
        session = await self._load(session_id)
        await self.cache.set(_SESSION + _digest(session_id), _ENDED, ttl_s=60)
        params = {"client_id": self.config.client_id, "post_logout_redirect_uri": post_logout_uri}
        if session is not None:
            params["id_token_hint"] = session["id_token"]
        return f"{await self._endpoint('end_session_endpoint')}?{urlencode(params)}"

    async def _caller_of(self, answer: dict[str, Any]) -> Caller:
        try:
            found = await self.tokens.authenticate(str(answer.get("access_token", "")))
        except InvalidToken as err:
            raise SignInFailed(f"The realm's access token was refused: {err}.") from None
        if found is None:
            raise SignInFailed("The realm sent no access token.")
        return found

    async def _keep(
        self, session_id: str, caller: Caller, answer: dict[str, Any], id_token: str, ends: float
    ) -> None:
        p = caller.principal
        session = {
            "subject": p.subject,
            "name": p.display_name,
            "roles": sorted(p.roles),
            "id_token": id_token,
            "refresh_token": answer.get("refresh_token", ""),
            "access_exp": time.time() + float(answer.get("expires_in", 60)),
            "ends": ends,
        }
        ttl = ends - time.time()
        if "refresh_expires_in" in answer and float(answer["refresh_expires_in"]) > 0:
            ttl = min(ttl, float(answer["refresh_expires_in"]))  # the realm's SSO idle timeout
        await self.cache.set(
            _SESSION + _digest(session_id), json.dumps(session).encode(), ttl_s=max(ttl, 1.0)
        )

    async def _load(self, session_id: str) -> dict[str, Any] | None:
        if not session_id.startswith(SESSION_PREFIX):
            return None
        raw = await self.cache.get(_SESSION + _digest(session_id))
        if not raw:
            return None
        session: dict[str, Any] = json.loads(raw)
        return session if time.time() < session["ends"] else None

    async def _grant(self, **form: str) -> dict[str, Any]:
        c = self.config
        headers = {"Accept": "application/json"}
        if c.client_secret:  # client_secret_basic: both parts form-encoded first (RFC 6749 2.3.1)
            pair = f"{quote(c.client_id, safe='')}:{quote(c.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = c.client_id
        try:
            response = await self.tokens.client.post(
                await self._endpoint("token_endpoint"), data=form, headers=headers
            )
            answer: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise SignInFailed(f"Keycloak cannot be reached: {type(err).__name__}.") from None
        if response.status_code != 200:
            why = answer.get("error_description") or answer.get("error") or response.status_code
            raise SignInFailed(f"Keycloak refused the sign-in: {why}.")
        return answer

    async def _endpoint(self, name: str) -> str:
        if self._endpoints is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                response = await self.tokens.client.get(url)
                response.raise_for_status()
                found: dict[str, Any] = response.json()
            except (httpx.HTTPError, ValueError) as err:
                raise SignInFailed(f"Keycloak cannot be reached: {type(err).__name__}.") from None
            if found.get("issuer") != self.config.issuer.rstrip("/"):  # OpenID Connect Discovery 4.3
                raise SignInFailed("The realm's discovery document names another issuer.")
            self._endpoints = found
        value = self._endpoints.get(name)
        if not isinstance(value, str) or not value:
            raise SignInFailed(f"The realm publishes no {name}.")
        return value


def _caller(session: dict[str, Any]) -> Caller:
    principal = oidc_principal(session["subject"], session["name"], session["roles"])
    return Caller(principal, session["subject"], "oidc")


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
