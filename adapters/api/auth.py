"""Who is calling the HTTP API: bearer tokens in, a `Caller` (a Principal and its token) out.

    Authorization: Bearer oct_<id>_<secret>   a personal API token (`opsconductor tokens create`)
    Authorization: Bearer <JWT>               a Keycloak access token (adapters.api.oidc)

The kernel later resolves the same caller again from its `ChatIdentity` (platform "api",
user id = the token id) through `ApiIdentities`, so a request's requester and an approver are
re-checked at decision time like any chat user: a token revoked meanwhile resolves to nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from db.api_tokens import TokenRecord
from db.types import utcnow
from pipeline.contracts import ChatIdentity, Principal
from pipeline.ports import Cache, IdentityResolver

API_PLATFORM = "api"
OIDC_PLATFORM = "oidc"
ALERTS_PLATFORM = "alerts"
ALERTS = Principal(subject="alerts", display_name="Alerts", roles=frozenset({"viewer"}))  # read-only


class InvalidToken(Exception):
    """A bearer token of this authenticator's kind that fails a check; the message says which."""


@dataclass(frozen=True)
class Caller:
    """An authenticated API caller."""

    principal: Principal
    token_id: str  # the API token's id, or the OIDC token's subject
    via: Literal["token", "oidc"]

    @property
    def identity(self) -> ChatIdentity:
        assert self.principal.identity is not None
        return self.principal.identity


class TokenStore(Protocol):
    async def authenticate(self, token: str) -> TokenRecord | None: ...

    async def get(self, token_id: str) -> TokenRecord | None: ...


class Authenticator(Protocol):
    """Checks one bearer token; None when it is not of this kind, InvalidToken when it is and fails."""

    async def authenticate(self, bearer: str) -> Caller | None: ...


def token_principal(record: TokenRecord) -> Principal:
    identity = ChatIdentity(platform=API_PLATFORM, user_id=record.id, display_name=record.display_name)
    return Principal(
        subject=record.person,
        display_name=record.display_name or record.person,
        roles=frozenset(record.roles),
        identity=identity,
    )


class TokenAuthenticator:
    """Personal API tokens (only their hashes are stored)."""

    def __init__(self, tokens: TokenStore) -> None:
        self.tokens = tokens

    async def authenticate(self, bearer: str) -> Caller | None:
        record = await self.tokens.authenticate(bearer)
        if record is None:
            return None
        return Caller(token_principal(record), record.id, "token")


class ApiIdentities:
    """IdentityResolver: API-token identities from their tokens, OIDC identities from the last valid
    token remembered in the cache, every other platform from `inner`."""

    def __init__(self, inner: IdentityResolver, tokens: TokenStore, cache: Cache | None = None) -> None:
        self.inner = inner
        self.tokens = tokens
        self.cache = cache  # where OIDC principals are remembered (adapters.api.oidc)

    async def resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        if identity.platform == ALERTS_PLATFORM:  # the alert webhooks' diagnoses: read tools only
            return ALERTS.model_copy(update={"identity": identity})
        if identity.platform == OIDC_PLATFORM:
            from adapters.api.oidc import remembered

            return await remembered(self.cache, identity.user_id) if self.cache is not None else None
        if identity.platform != API_PLATFORM:
            return await self.inner.resolve(identity, fresh=fresh)
        record = await self.tokens.get(identity.user_id)
        if record is None or not record.valid_at(utcnow()):
            return None
        return token_principal(record)
