"""The Teams adapter's own configuration (adapters never import `bot.settings`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class TeamsSection(Protocol):
    """The shape of `bot.settings.TeamsSettings`, read by `TeamsConfig.from_section`."""

    @property
    def app_id(self) -> str: ...
    @property
    def app_password(self) -> _Secret: ...
    @property
    def app_type(self) -> Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"]: ...
    @property
    def app_tenant_id(self) -> str: ...
    @property
    def allowed_tenants(self) -> list[str]: ...


@dataclass(frozen=True)
class TeamsConfig:
    """Bot registration, tenant allow-list and the bounds of work, dedupe and progress.

    `app_id` empty disables authentication (local testing with the Bot Framework
    Emulator or a stand-in): then requests must carry no Authorization header.
    `allowed_tenants` empty means: only `app_tenant_id` when it is set (single-tenant
    registrations), otherwise every tenant (development; identity resolution still
    refuses people it does not know). `openid_metadata_url` empty means the public
    Azure cloud's (botbuilder's built-in validation); set it to validate against
    another OpenID metadata document (sovereign clouds, tests).
    """

    app_id: str = ""
    app_password: str = ""
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "MultiTenant"
    app_tenant_id: str = ""
    allowed_tenants: tuple[str, ...] = ()
    openid_metadata_url: str = ""
    queue_size: int = 100  # pending requests before users are told to retry
    workers: int = 8  # requests handled at once
    dedupe_ttl_s: float = 3600.0  # how long activity ids are remembered
    progress_interval_s: float = 1.5  # at most one card update per interval
    member_ttl_s: float = 3600.0  # member lookups (e-mail/UPN) are cached this long
    invoke_wait_s: float = 2.0  # how long a card click waits for the decision before answering
    card_ttl_s: float = 86_400.0  # approval cards are kept this long to restore them after a refusal
    certificate_thumbprint: str = ""  # with certificate_key (PEM): the bot's credential instead of a password
    certificate_key: str = ""
    login_authority: str = ""  # empty: the cloud's login host with the app's tenant (or botframework.com)
    oauth_scope: str = ""  # empty: https://api.botframework.com
    login_timeout_s: float = 10.0  # token and signing-key fetches give up after this
    login_verify: bool | str = True  # TLS verification of the login endpoint: True or a CA bundle path
    extra: dict[str, str] = field(default_factory=dict)  # further botbuilder configuration keys

    @classmethod
    def from_section(cls, section: TeamsSection, **extra: object) -> TeamsConfig:
        """Build from the settings section; optional fields it has (queue_size, ...) are used too."""
        values: dict[str, object] = {
            "app_id": section.app_id,
            "app_password": section.app_password.get_secret_value(),
            "app_type": section.app_type,
            "app_tenant_id": section.app_tenant_id,
            "allowed_tenants": tuple(section.allowed_tenants),
        }
        key_file = getattr(section, "certificate_key_file", "")
        if key_file:
            values["certificate_key"] = read_key_file(key_file)
        for name in (
            "certificate_thumbprint",
            "login_authority",
            "oauth_scope",
            "login_timeout_s",
            "openid_metadata_url",
            "queue_size",
            "workers",
            "dedupe_ttl_s",
            "progress_interval_s",
            "invoke_wait_s",
        ):
            if hasattr(section, name):
                values[name] = getattr(section, name)
        values.update(extra)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    def tenant_allowed(self, tenant: str) -> bool:
        """Whether requests from this Azure AD tenant are served (see the class docstring)."""
        allowed = self.allowed_tenants or ((self.app_tenant_id,) if self.app_tenant_id else ())
        if not allowed:
            return True
        return tenant.lower() in {t.lower() for t in allowed}


def read_key_file(path: str) -> str:
    """The PEM private key of the bot's certificate; ValueError (one line) when unreadable."""
    try:
        with open(path, encoding="ascii") as file:
            text = file.read(64 * 1024)
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"teams.certificate_key_file {path}: cannot read it ({err})") from None
    if "PRIVATE KEY" not in text:
        raise ValueError(f"teams.certificate_key_file {path}: not a PEM private key")
    return text
