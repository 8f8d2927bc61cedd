"""Bot Framework authentication for the CloudAdapter: inbound JWT validation, outbound tokens.

Inbound: botbuilder validates every activity's bearer token when an app id is set
(issuer https://api.botframework.com, audience = app id, signing key from the OpenID
metadata's JWKS, `serviceurl` claim = the activity's serviceUrl). With no app id,
authentication is off and requests must carry no Authorization header.

Outbound: botbuilder builds one credentials object per turn, each with its own MSAL token
cache, so every turn would fetch a new token; `ReusedCredentials` keeps one per
(app id, scope, login endpoint). MSAL and the OpenID metadata fetch are synchronous
(botbuilder 4.17.1): a token about once an hour and the signing keys once a day block
the event loop for one round trip.
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
    if config.openid_metadata_url:
        values.update(
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=config.openid_metadata_url,
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
            TO_CHANNEL_FROM_BOT_LOGIN_URL=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            OAUTH_URL=AuthenticationConstants.OAUTH_URL,
            CALLER_ID=CallerIdConstants.public_azure_channel,
            VALIDATE_AUTHORITY=True,
        )
    values.update(config.extra)
    return SimpleNamespace(**values)


class ReusedCredentials(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Wraps a credentials factory so each (app id, scope, endpoint) gets one credentials object,
    and with it one token cache, for the life of the process."""

    def __init__(self, inner: ServiceClientCredentialsFactory) -> None:
        self._inner = inner
        self._made: dict[tuple[str, str, str, bool], AppCredentials] = {}

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
            made = await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
            self._made[key] = made
        return made


def build_authentication(
    config: TeamsConfig, credentials: ServiceClientCredentialsFactory | None = None
) -> BotFrameworkAuthentication:
    """botbuilder's authentication for `config`; `credentials` replaces the app-password
    factory (managed identities, certificates, or a loopback token service in tests)."""
    settings = bot_configuration(config)
    inner = credentials or ConfigurationServiceClientCredentialFactory(settings)
    return ConfigurationBotFrameworkAuthentication(settings, credentials_factory=ReusedCredentials(inner))
