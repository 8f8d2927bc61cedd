"""Keycloak (OIDC) bearer tokens on the HTTP API, validated against the realm's published keys.

    Authorization: Bearer <access token from the realm>

A token is accepted when its RS256 signature verifies with a key of the realm's JWKS (fetched
from `jwks_url`, cached, fetched again for an unknown key id at most every `refetch_s`), its
issuer is the realm, its audience names this API (`aud`, or `azp` for Keycloak's access
tokens), and it has not expired. Roles are the token's realm roles plus the client roles of
`client_id` (Keycloak's `realm_access.roles` and `resource_access.<client>.roles`); the
subject is the Keycloak user id (`sub`), the same subject the Keycloak resolver gives a chat
user, so four eyes holds across doors.

The kernel resolves requesters and approvers again later (at approval time), when the access
token is long gone: each validated token's principal is remembered in the cache (Redis across
replicas) for `remember_s`, and `ApiIdentities` answers from there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from adapters.api.auth import OIDC_PLATFORM, Caller, InvalidToken
from pipeline.contracts import ChatIdentity, Principal
from pipeline.ports import Cache

log = logging.getLogger(__name__)
REMEMBER_KEY = "api:oidc:principal:"


@dataclass(frozen=True)
class OidcConfig:
    issuer: str  # https://keycloak.example/realms/opsconductor
    audience: str  # the API's client id
    jwks_url: str = ""  # empty: <issuer>/protocol/openid-connect/certs (Keycloak)
    client_id: str = ""  # whose client roles count; empty: the audience
    algorithms: tuple[str, ...] = ("RS256",)
    leeway_s: float = 30.0
    jwks_ttl_s: float = 300.0
    refetch_s: float = 10.0
    remember_s: float = 3600.0
    timeout_s: float = 5.0

    @property
    def keys_url(self) -> str:
        return self.jwks_url or self.issuer.rstrip("/") + "/protocol/openid-connect/certs"


class OidcAuthenticator:
    """Authenticator for the realm's access tokens (JWTs); other bearer tokens pass through."""

    def __init__(
        self,
        config: OidcConfig,
        cache: Cache,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.cache = cache
        self.client = client or httpx.AsyncClient(timeout=config.timeout_s)
        self.clock = clock
        self._keys: jwt.PyJWKSet | None = None
        self._fetched_at = -1e18
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def authenticate(self, bearer: str) -> Caller | None:
        if bearer.count(".") != 2:
            return None  # not a JWT: an API token, say
        claims = await self._claims(bearer)
        principal = self._principal(claims)
        await self.cache.set(
            REMEMBER_KEY + principal.subject,
            json.dumps({"name": principal.display_name, "roles": sorted(principal.roles)}).encode(),
            ttl_s=self.config.remember_s,
        )
        return Caller(principal, principal.subject, "oidc")

    async def _claims(self, token: str) -> dict[str, Any]:
        return await self.verify(token, self.config.audience)

    async def verify(self, token: str, audience: str) -> dict[str, Any]:
        """The claims of a realm-signed, unexpired JWT meant for `audience`; InvalidToken otherwise.
        The console's sign-in checks its ID tokens with this too (audience: the console's client)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise InvalidToken(f"not a readable JWT: {err}") from None
        if header.get("alg") not in self.config.algorithms:
            raise InvalidToken(f"signing algorithm {header.get('alg')!r} is not accepted")
        key = await self._key(str(header.get("kid", "")))
        c = self.config
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(c.algorithms),
                issuer=c.issuer,
                leeway=c.leeway_s,
                options={"require": ["exp", "iat", "sub", "iss"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.PyJWTError as err:
            raise InvalidToken(f"the token does not verify: {err}") from None
        if not _for_audience(claims, audience):
            raise InvalidToken(f"the token is not meant for {audience} (audience)")
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        keys = await self._jwks(refresh=False)
        found = _find(keys, kid)
        if found is None:  # keys rotated: ask again, but not on every forged kid
            keys = await self._jwks(refresh=True)
            found = _find(keys, kid)
        if found is None:
            raise InvalidToken("the token's signing key is not one of the realm's keys")
        return found

    async def _jwks(self, *, refresh: bool) -> jwt.PyJWKSet | None:
        async with self._lock:
            age = self.clock() - self._fetched_at
            stale = age > self.config.jwks_ttl_s or (refresh and age > self.config.refetch_s)
            if self._keys is None or stale:
                self._keys = await self._fetch()
                self._fetched_at = self.clock()
            return self._keys

    async def _fetch(self) -> jwt.PyJWKSet | None:
        try:
            response = await self.client.get(self.config.keys_url)
            response.raise_for_status()
            return jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, jwt.PyJWTError, ValueError) as err:
            log.warning("cannot read the realm's keys from %s: %s", self.config.keys_url, err)
            return self._keys  # keep what we had

    def _principal(self, claims: dict[str, Any]) -> Principal:
        client = self.config.client_id or self.config.audience
        realm = (claims.get("realm_access") or {}).get("roles") or []
        own = ((claims.get("resource_access") or {}).get(client) or {}).get("roles") or []
        name = str(claims.get("preferred_username") or claims.get("name") or claims["sub"])
        return oidc_principal(str(claims["sub"]), name, [str(r) for r in [*realm, *own]])


def oidc_principal(subject: str, name: str, roles: list[str]) -> Principal:
    """A realm user as the kernel sees them (platform "oidc", user id = the Keycloak subject)."""
    identity = ChatIdentity(platform=OIDC_PLATFORM, user_id=subject, display_name=name)
    return Principal(subject=subject, display_name=name, roles=frozenset(roles), identity=identity)


async def remembered(cache: Cache, subject: str) -> Principal | None:
    """The principal of the last valid token of `subject`, while remembered."""
    raw = await cache.get(REMEMBER_KEY + subject)
    if raw is None:
        return None
    data = json.loads(raw)
    return oidc_principal(subject, data["name"], data["roles"])


def _find(keys: jwt.PyJWKSet | None, kid: str) -> jwt.PyJWK | None:
    if keys is None:
        return None
    return next((k for k in keys.keys if k.key_id == kid), None)


def _for_audience(claims: dict[str, Any], audience: str) -> bool:
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else list(aud or [])
    return audience in audiences or claims.get("azp") == audience
