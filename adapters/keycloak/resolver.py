"""IdentityResolver on Keycloak, with results cached through the Cache port.

A resolved identity (or "nobody") is cached as JSON for `cache_ttl_s` (`negative_cache_ttl_s`
for nobody), so a chat message costs no Keycloak call while the entry lives. When Keycloak
cannot be asked (down, timing out, refusing the service account), a cached entry still
answers until it expires; after that `resolve` raises IdentityUnavailable: fail closed.
Concurrent resolves of the same identity share one lookup.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from adapters.keycloak.config import KeycloakConfig
from adapters.keycloak.directory import KeycloakDirectory, connect, display_name
from pipeline.contracts import ChatIdentity, Principal
from pipeline.errors import IdentityUnavailable
from pipeline.ports import Cache

log = logging.getLogger(__name__)

CACHE_PREFIX = "identity:keycloak:v1:"


@dataclass(frozen=True)
class _Entry:
    principal: Principal | None
    expires_at: float


class KeycloakResolver:
    """Maps chat identities to Principals with Keycloak roles; see the module docstring."""

    def __init__(
        self,
        config: KeycloakConfig,
        cache: Cache,
        *,
        admin: KeycloakAdmin | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._cache = cache
        self._admin = admin or connect(config)
        self._directory = KeycloakDirectory(config, self._admin)
        self._clock = clock
        self._inflight: dict[str, asyncio.Task[Principal | None]] = {}

    async def resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        """The Keycloak user behind `identity` with their roles; None for unknown or disabled users.

        `fresh` asks Keycloak even when a cached entry is valid (roles at approval time);
        the cached entry then serves only if Keycloak cannot answer.
        Raises IdentityUnavailable when Keycloak cannot answer and no cached entry is valid.
        """
        key = self.cache_key(identity)
        entry = await self._cached(key)
        if entry is not None and not fresh:
            return _with_identity(entry.principal, identity)
        try:
            return await self._fetch_shared(identity, key)
        except IdentityUnavailable:
            if entry is None:
                raise
            log.warning("Keycloak unavailable; the cached identity serves until it expires")
            return _with_identity(entry.principal, identity)

    async def _fetch_shared(self, identity: ChatIdentity, key: str) -> Principal | None:
        """One Keycloak lookup per identity at a time, shared by concurrent callers."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._fetch(identity, key), name=f"keycloak-resolve-{key[-8:]}")
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return _with_identity(await asyncio.shield(task), identity)

    async def aclose(self) -> None:
        """Close the HTTP clients of the admin and token connections."""
        connection = self._admin.connection
        await connection.keycloak_openid.connection.aclose()
        await connection.aclose()

    def cache_key(self, identity: ChatIdentity) -> str:
        raw = json.dumps(
            [self.config.server_url, self.config.realm, identity.platform, identity.tenant,
             identity.user_id, (identity.email or "").lower()],
        )  # fmt: skip
        return CACHE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()[:40]

    async def _fetch(self, identity: ChatIdentity, key: str) -> Principal | None:
        try:
            async with asyncio.timeout(self.config.timeout_s):
                principal = await self._lookup(identity)
        except TimeoutError as err:
            raise self._unavailable(f"no answer within {self.config.timeout_s:g}s") from err
        except KeycloakError as err:
            raise self._unavailable(_describe(err)) from err
        except (TypeError, KeyError, ValueError) as err:  # a malformed answer
            raise self._unavailable(f"unexpected answer ({err})") from err
        await self._store(key, principal)
        return principal

    async def _lookup(self, identity: ChatIdentity) -> Principal | None:
        user = await self._directory.find_user(identity)
        if user is None:
            return None
        roles = await self._directory.roles_of(user)
        return Principal(subject=str(user["id"]), display_name=display_name(user), roles=roles)

    def _unavailable(self, why: str) -> IdentityUnavailable:
        message = (
            f"Keycloak at {self.config.server_url} (realm {self.config.realm}) cannot be asked: {why}; "
            "no valid cached identity, so the request is refused until Keycloak answers again"
        )
        log.error(message)
        return IdentityUnavailable(message)

    # ------------------------------------------------------------------ cache

    async def _cached(self, key: str) -> _Entry | None:
        try:
            raw = await self._cache.get(key)
        except Exception as err:  # the cache is an optimisation: Keycloak is asked instead
            log.warning("identity cache unavailable (%s); asking Keycloak", err)
            return None
        if raw is None:
            return None
        entry = _decode(raw)
        if entry is None or entry.expires_at <= self._clock():
            return None
        return entry

    async def _store(self, key: str, principal: Principal | None) -> None:
        ttl = self.config.cache_ttl_s if principal is not None else self.config.negative_cache_ttl_s
        if ttl <= 0:
            return
        try:
            await self._cache.set(key, _encode(principal, self._clock() + ttl), ttl_s=ttl)
        except Exception as err:
            log.warning("identity cache unavailable (%s); result not cached", err)


def _encode(principal: Principal | None, expires_at: float) -> bytes:
    body: dict[str, Any] = {"expires_at": expires_at, "principal": None}
    if principal is not None:
        body["principal"] = {
            "subject": principal.subject,
            "display_name": principal.display_name,
            "roles": sorted(principal.roles),
        }
    return json.dumps(body, separators=(",", ":")).encode()


def _decode(raw: bytes) -> _Entry | None:
    try:
        body = json.loads(raw)
        data = body["principal"]
        principal = None
        if data is not None:
            principal = Principal(
                subject=str(data["subject"]),
                display_name=str(data.get("display_name", "")),
                roles=frozenset(str(r) for r in data["roles"]),
            )
        return _Entry(principal=principal, expires_at=float(body["expires_at"]))
    except (ValueError, TypeError, KeyError) as err:
        log.warning("ignoring a malformed identity cache entry: %s", err)
        return None


def _with_identity(principal: Principal | None, identity: ChatIdentity) -> Principal | None:
    return None if principal is None else principal.model_copy(update={"identity": identity})


def _describe(err: KeycloakError) -> str:
    code = getattr(err, "response_code", None)
    if code in (401, 403):
        return (
            f"the service account was refused (HTTP {code}); check the client secret and that it "
            "holds realm-management view-users and query-users"
        )
    if code:
        return f"HTTP {code}"
    cause = err.__cause__
    return f"cannot connect ({type(cause).__name__ if cause else type(err).__name__})"
