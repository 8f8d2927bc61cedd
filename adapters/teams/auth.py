"""Bot Framework authentication for the CloudAdapter: inbound JWT validation, outbound tokens.

Inbound: botbuilder validates every activity's bearer token when an app id is set
(issuer https://api.botframework.com, audience = app id, signing key from the OpenID
metadata's JWKS, `serviceurl` claim = the activity's serviceUrl). With no app id,
authentication is off and requests must carry no Authorization header (development only:
production settings refuse it).

Outbound: the bot's token comes from MSAL (client secret or certificate) at the configured
authority and scope (sovereign clouds), fetched off the event loop under `login_timeout_s`
(adapters.teams.login); botbuilder builds one credentials object per turn, so
`ReusedCredentials` keeps one per (app id, scope, login endpoint) and refreshes its token
in the login thread before botbuilder reads it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ServiceClientCredentialsFactory,
)

from adapters.teams.config import TeamsConfig
from adapters.teams.login import MsalCredentialsFactory, PrefetchedToken, ReadyTokens, install_async_metadata


def bot_configuration(config: TeamsConfig) -> SimpleNamespace:
    """The attribute bag botbuilder's configuration classes read (APP_ID, APP_PASSWORD, ...).

    With `openid_metadata_url` set, the remaining public-cloud endpoints are spelled out
    too, which selects botbuilder's parameterized validation with that metadata document.
    """
    values: dict[str, Any] = {
        "APP_ID": config.app_id,
        "APP_PASSWORD": config.app_password,
        "APP_TYPE": config.app_type,
        "APP_TENANTID": config.app_tenant_id,
    }
    if config.openid_metadata_url or config.login_authority or config.oauth_scope:
        scope = (
            config.oauth_scope.removesuffix("/.default")
            or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        )
        values.update(
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=config.openid_metadata_url
            or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
            # the Bot Connector's tokens are issued by the cloud's Bot Framework, which is also the scope
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=scope,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
            TO_CHANNEL_FROM_BOT_LOGIN_URL=config.login_authority
            or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=scope,
            OAUTH_URL=AuthenticationConstants.OAUTH_URL,
            CALLER_ID=CallerIdConstants.public_azure_channel,
            VALIDATE_AUTHORITY=True,
        )
    values.update(config.extra)
    return SimpleNamespace(**values)


class ReusedCredentials(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Wraps a credentials factory so each (app id, scope, endpoint) gets one credentials object,
    and with it one token cache, for the life of the process."""

    def __init__(self, inner: ServiceClientCredentialsFactory, tokens: ReadyTokens) -> None:
        self._inner = inner
        self._tokens = tokens
        self._made: dict[tuple[str, str, str, bool], PrefetchedToken] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        key = (app_id or "", oauth_scope or "", login_endpoint or "", bool(validate_authority))
        made = self._made.get(key)
        if made is None:
            inner = await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            made = self._made[key] = PrefetchedToken(inner)
        await made.refresh(self._tokens)  # off the event loop, under the login timeout
        return made

    def close(self) -> None:
        self._tokens.close()


def build_authentication(
    config: TeamsConfig, credentials: ServiceClientCredentialsFactory | None = None
) -> BotFrameworkAuthentication:
    """botbuilder's authentication for `config`; `credentials` replaces the credentials
    factory (a loopback token service in tests)."""
    install_async_metadata(config.login_timeout_s)
    settings = bot_configuration(config)
    inner = credentials or credentials_factory(config, settings)
    reused = ReusedCredentials(inner, ReadyTokens(config.login_timeout_s))
    authentication = ConfigurationBotFrameworkAuthentication(settings, credentials_factory=reused)
    authentication.reused_credentials = reused
    return authentication


def credentials_factory(config: TeamsConfig, settings: SimpleNamespace) -> ServiceClientCredentialsFactory:
    """MSAL with a client secret or certificate; botbuilder's own for managed identities and
    for authentication off (no app id)."""
    if not config.app_id or config.app_type == "UserAssignedMSI":
        return ConfigurationServiceClientCredentialFactory(settings)
    credential: str | dict[str, str] = config.app_password
    if config.certificate_thumbprint:
        credential = {"thumbprint": config.certificate_thumbprint, "private_key": config.certificate_key}
    return MsalCredentialsFactory(
        config.app_id,
        credential,
        tenant_id=config.app_tenant_id if config.app_type == "SingleTenant" else "",
        authority=config.login_authority,
        timeout_s=config.login_timeout_s,
        verify=config.login_verify,
    )
