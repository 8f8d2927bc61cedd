"""The bot's Microsoft logins, kept off the event loop and under a deadline.

botbuilder 4.17.1 does both of its network logins synchronously inside the event loop:
msrest calls `AppCredentials.signed_session` -> `get_access_token` (MSAL over `requests`,
no timeout) before every Bot Connector call, and the inbound JWT check fetches the OpenID
metadata and signing keys with `requests.get` (no timeout). A firewall that drops traffic
to the login endpoint therefore froze the whole server, `/health` included.

Here:
- `MsalCredentialsFactory` makes `MsalCredentials` (client secret or certificate, the
  configured authority and scope, MSAL's own HTTP timeout, no instance discovery call);
  a refused secret is reported as such (`TeamsLoginError`), not as a PermissionError.
- `ReadyTokens` (used by `adapters.teams.auth.ReusedCredentials`) fetches every token in
  one dedicated thread under `timeout_s` before botbuilder asks for it, so the blocking
  `get_access_token` only hands out a token already fetched.
- `install_async_metadata` makes botbuilder fetch the OpenID metadata and keys with aiohttp
  under the same deadline (it replaces the SDK's process-wide metadata cache).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import requests
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    GovernmentConstants,
    ServiceClientCredentialsFactory,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata
from msal import ConfidentialClientApplication

from pipeline.errors import DependencyError

log = logging.getLogger(__name__)
REUSE_S = 60.0  # a token fetched this recently is handed out again without asking MSAL
CLOUD_PREFIXES = (
    (
        AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
        AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT,
    ),
    (
        GovernmentConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
        GovernmentConstants.DEFAULT_CHANNEL_AUTH_TENANT,
    ),
)


class TeamsLoginError(DependencyError):
    """The bot could not get its token or the signing keys; the message is one line saying why."""


class MsalCredentials(AppCredentials):  # type: ignore[misc]
    """Client credentials for one app id and scope through MSAL. `fetch_token` blocks (run it
    in a thread); `get_access_token` raises TeamsLoginError instead of a bare PermissionError."""

    def __init__(
        self,
        app_id: str,
        credential: str | dict[str, str],
        *,
        authority: str,
        scope: str,
        timeout_s: float,
        verify: bool | str = True,
    ) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self.oauth_endpoint = authority
        self._credential = credential
        self._timeout_s = timeout_s
        self._verify = verify
        self._app: ConfidentialClientApplication | None = None

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self.fetch_token()

    def fetch_token(self) -> str:
        """A token from MSAL's cache, or from the authority (blocking, bounded by `timeout_s`)."""
        scope = self.oauth_scope if self.oauth_scope.endswith("/.default") else f"{self.oauth_scope}/.default"
        try:
            if self._app is None:
                self._app = ConfidentialClientApplication(
                    self.microsoft_app_id,
                    client_credential=self._credential,
                    authority=self.oauth_endpoint,
                    timeout=self._timeout_s,
                    instance_discovery=False,  # the authority is configured; no call to the public cloud
                    http_client=self._http_client(),
                )
            answer: dict[str, Any] = self._app.acquire_token_for_client(scopes=[scope])
        except requests.RequestException as err:
            raise TeamsLoginError(
                f"the Teams login endpoint {self.oauth_endpoint} did not answer ({type(err).__name__})"
            ) from None
        except ValueError as err:  # MSAL: the authority's OpenID configuration is unusable
            raise TeamsLoginError(
                f"the Teams login authority {self.oauth_endpoint} is not usable: {_first(err)}"
            ) from None
        if "access_token" in answer:
            return str(answer["access_token"])
        raise TeamsLoginError(refusal(answer, self.microsoft_app_id, self.oauth_endpoint))

    def _http_client(self) -> requests.Session | None:
        """None: MSAL's own session. A CA bundle path is passed with every request, since
        requests lets REQUESTS_CA_BUNDLE from the environment override a session's own."""
        if not isinstance(self._verify, str):
            return None
        session = requests.Session()
        session.request = functools.partial(  # type: ignore[method-assign]
            session.request, timeout=self._timeout_s, verify=self._verify
        )
        return session


def refusal(answer: dict[str, Any], app_id: str, authority: str) -> str:
    """One line for an error answer of the token endpoint, naming what to check."""
    error = str(answer.get("error") or "unknown_error")
    description = _first(answer.get("error_description") or "no description")
    if error == "invalid_client":
        return (
            f"Microsoft Entra refused the bot's client secret or certificate for app id {app_id} "
            f"({error}: {description}); check teams.app_password (or the certificate settings)"
        )
    if error in ("unauthorized_client", "invalid_request") and "700016" in description:
        return (
            f"Microsoft Entra does not know app id {app_id} ({description}); "
            "check teams.app_id and teams.app_tenant_id"
        )
    return f"the Teams login at {authority} refused the token request ({error}: {description})"


class MsalCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """botbuilder's credentials factory for a client secret or a certificate, with the configured
    login authority (else the cloud's, for the app's tenant) and MSAL's HTTP timeout."""

    def __init__(
        self,
        app_id: str,
        credential: str | dict[str, str],
        *,
        tenant_id: str = "",
        authority: str = "",
        timeout_s: float = 10.0,
        verify: bool | str = True,
    ) -> None:
        self.app_id = app_id
        self.credential = credential
        self.tenant_id = tenant_id
        self.authority = authority
        self.timeout_s = timeout_s
        self.verify = verify

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if app_id != self.app_id:
            raise TeamsLoginError(f"botbuilder asked for a token for app id {app_id!r}, not {self.app_id!r}")
        return MsalCredentials(
            app_id,
            self.credential,
            authority=self.authority or authority_for(login_endpoint, self.tenant_id),
            scope=oauth_scope,
            timeout_s=self.timeout_s,
            verify=self.verify,
        )


def authority_for(login_endpoint: str, tenant_id: str) -> str:
    """The MSAL authority for botbuilder's login endpoint: the cloud's login host with the
    app's tenant (single-tenant apps) or the Bot Framework's; other endpoints as they are."""
    lowered = (login_endpoint or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL).lower()
    for prefix, default_tenant in CLOUD_PREFIXES:
        if lowered.startswith(prefix):
            return f"{prefix}{tenant_id or default_tenant}"
    return login_endpoint.rstrip("/")


class ReadyTokens:
    """Fetches tokens in one dedicated thread, each fetch under `timeout_s`: a login endpoint
    that never answers holds that thread, never the event loop."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="teams-login")

    async def fetch(self, credentials: AppCredentials) -> str:
        fetch = getattr(credentials, "fetch_token", credentials.get_access_token)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout_s):
                token: object = await loop.run_in_executor(self._thread, fetch)
            return str(token)
        except TimeoutError:
            where = credentials.oauth_endpoint
            raise TeamsLoginError(
                f"the Teams login endpoint {where} did not answer within {self.timeout_s:g} s"
            ) from None
        except TeamsLoginError:
            raise
        except Exception as err:  # any other credentials type (managed identity, ...)
            raise TeamsLoginError(
                f"the bot could not get its Teams token: {type(err).__name__}: {_first(err)}"
            ) from None

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


class PrefetchedToken(AppCredentials):  # type: ignore[misc]
    """What botbuilder holds: `get_access_token` (called on the event loop) returns the token
    `refresh` fetched off the loop; it never blocks."""

    def __init__(self, inner: AppCredentials) -> None:
        super().__init__(app_id=inner.microsoft_app_id, oauth_scope=inner.oauth_scope)
        self.inner = inner
        self.oauth_endpoint = inner.oauth_endpoint
        self._token: str | None = None
        self._fetched_at = float("-inf")

    async def refresh(self, tokens: ReadyTokens) -> None:
        if not self.microsoft_app_id:  # authentication off: no token at all
            return
        if self._token is not None and time.monotonic() - self._fetched_at < REUSE_S:
            return
        self._token = await tokens.fetch(self.inner)
        self._fetched_at = time.monotonic()

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self._token is None:
            raise TeamsLoginError("the bot's Teams token was not fetched yet")
        return self._token


class AsyncOpenIdMetadata(_OpenIdMetadata):  # type: ignore[misc]
    """botbuilder's signing-key cache, refreshed with aiohttp under a deadline."""

    timeout_s = 10.0

    async def _refresh(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                metadata = await _get_json(http, self.url)
                keys = await _get_json(http, str(metadata["jwks_uri"]))
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as err:
            raise TeamsLoginError(
                f"the Bot Framework signing keys at {self.url} could not be fetched ({type(err).__name__})"
            ) from None
        from datetime import datetime

        self.last_updated = datetime.now()
        self.keys = keys["keys"]


class _MetadataCache(dict[str, Any]):
    """Stands in for `JwtTokenExtractor.metadataCache`: every URL gets an AsyncOpenIdMetadata."""

    def get(self, url: str, default: Any = None) -> Any:
        if url not in self:
            self[url] = AsyncOpenIdMetadata(url)
        return self[url]


def install_async_metadata(timeout_s: float) -> None:
    """Make botbuilder's inbound token validation fetch keys asynchronously (process-wide)."""
    AsyncOpenIdMetadata.timeout_s = timeout_s
    if not isinstance(JwtTokenExtractor.metadataCache, _MetadataCache):
        JwtTokenExtractor.metadataCache = _MetadataCache()


async def _get_json(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(url) as response:
        response.raise_for_status()
        data = json.loads(await response.read())
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _first(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0][:300] if text else type(value).__name__
