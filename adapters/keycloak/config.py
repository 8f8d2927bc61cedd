"""Settings of the Keycloak identity source (mirrors `KeycloakSettings` in bot/settings.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

LookupMethod = Literal["attribute", "idp_link", "email"]
DEFAULT_ORDER: tuple[LookupMethod, ...] = ("attribute", "idp_link", "email")


class PlatformLookup(BaseModel):
    """How one chat platform's user ids are found in Keycloak.

    `attribute_value` is formatted with `tenant` (Slack team id, Teams tenant id) and
    `user_id`; a lookup whose value would hold an empty part is skipped.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    attribute: str = ""  # user attribute holding the chat id; "" disables attribute lookup
    attribute_value: str = "{user_id}"
    idp_alias: str = ""  # identity-provider alias whose link user id is the chat user id
    lowercase: bool = False  # lower-case ids before looking them up (Keycloak stores GUIDs lower-case)


def _default_platforms() -> dict[str, PlatformLookup]:
    return {
        # Slack member ids are only unique within a workspace: the attribute holds "T123:U456".
        "slack": PlatformLookup(
            attribute="slack_id", attribute_value="{tenant}:{user_id}", idp_alias="slack"
        ),
        # Microsoft Entra object ids are GUIDs, unique across tenants.
        "teams": PlatformLookup(
            attribute="teams_aad_id", attribute_value="{user_id}", idp_alias="microsoft", lowercase=True
        ),
        # The console: the OS account name (from the process uid), one attribute value per account.
        "console": PlatformLookup(attribute="console_user"),
    }


class KeycloakConfig(BaseModel):
    """Connection, lookup and caching settings for `KeycloakResolver`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    server_url: str
    realm: str = "opsconductor"
    client_id: str = "opsconductor-bot"
    client_secret: SecretStr = SecretStr("")
    lookup_order: list[LookupMethod] = Field(default_factory=lambda: list(DEFAULT_ORDER))
    use_client_roles: bool = False
    roles_client_id: str = ""  # client whose roles count as roles; "" -> client_id
    use_groups: bool = False
    group_roles: dict[str, list[str]] = Field(default_factory=dict)  # group name or path -> roles
    cache_ttl_s: float = Field(300.0, ge=0)
    negative_cache_ttl_s: float = Field(30.0, ge=0)  # "nobody known" is remembered this long
    require_verified_email: bool = True
    timeout_s: float = Field(10.0, gt=0)
    verify_tls: bool | str = True  # or a CA bundle path
    platforms: dict[str, PlatformLookup] = Field(default_factory=_default_platforms)

    @field_validator("server_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("keycloak server_url must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @property
    def client_roles_of(self) -> str:
        return self.roles_client_id or self.client_id
