"""One settings object, built once in the entry point and passed down in slices.

Environment variables use the prefix ``OPSCONDUCTOR_`` and ``__`` between sections
(``OPSCONDUCTOR_DB__URL``); an optional YAML/TOML config file is named by
``OPSCONDUCTOR_CONFIG`` or ``--config``. The embedded default needs no settings:
SQLite under ``~/.opsconductor``, in-process cache, static roles, no LLM.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from pipeline import safe_yaml
from pipeline.anomalies import BASELINE

DEFAULT_HOME = Path.home() / ".opsconductor"
TOML_WHERE = re.compile(r"\(at line (?P<line>\d+), column \d+\)")
PLACEHOLDERS = {"", "changeme", "change-me", "secret", "placeholder", "xxx", "todo"}


class Section(BaseModel):
    model_config = {"extra": "forbid"}


class DbSettings(Section):
    url: str = ""  # empty -> sqlite+aiosqlite:///<home>/opsconductor.db; postgresql://... uses asyncpg
    echo: bool = False
    migrate_on_start: bool = False  # migrate a configured database at start (else `db upgrade` does)
    pool_size: int = Field(10, ge=1, le=200)


class RedisSettings(Section):
    url: str = ""  # empty -> in-process cache, dedupe and queue
    key_prefix: str = "opsconductor:"


class LLMSettings(Section):
    base_url: str = ""  # empty -> no LLM: deterministic planner only
    api_key: SecretStr = SecretStr("")
    model: str = "Qwen/Qwen2.5-14B-Instruct-AWQ"
    structured_output: Literal["json_schema", "json_object"] = "json_schema"
    timeout_s: float = Field(20.0, gt=0, le=600)
    retries: int = Field(2, ge=0, le=10)
    max_concurrency: int = Field(4, ge=1, le=256)
    cache_ttl_s: float = Field(3600.0, ge=0)
    confidence_threshold: float = Field(0.6, ge=0, le=1)
    # stage D: the LLM adds a summary and recommendations over every result (one call each; the
    # templated answer stands when it cannot answer)
    summarize_results: bool = False


class SlackSettings(Section):
    enabled: bool = False
    mode: Literal["http", "socket"] = "http"
    bot_token: SecretStr = SecretStr("")
    signing_secret: SecretStr = SecretStr("")
    app_token: SecretStr = SecretStr("")  # xapp-... for Socket Mode
    api_base_url: str = "https://slack.com/api/"
    answer_bots: bool = False
    queue_size: int = Field(100, ge=1, le=100_000)  # pending requests before users are told to retry
    workers: int = Field(8, ge=1, le=1000)  # Slack requests handled at once
    dedupe_ttl_s: float = Field(3600.0, gt=0)  # how long event ids and clicks are remembered
    progress_interval_s: float = Field(1.5, ge=0.5)  # at most one progress update per message per interval


class TeamsSettings(Section):
    enabled: bool = False
    app_id: str = ""
    app_password: SecretStr = SecretStr("")
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "MultiTenant"
    app_tenant_id: str = ""
    # empty: only app_tenant_id when set (single-tenant), else every tenant (identity still gates people)
    allowed_tenants: list[str] = Field(default_factory=list)
    openid_metadata_url: str = ""  # empty: the public Azure cloud's Bot Framework metadata
    # the bot's own credential: app_password, or a certificate (thumbprint + PEM private key file)
    certificate_thumbprint: str = ""
    certificate_key_file: str = ""
    # where the bot gets its outbound token; empty: the public Azure cloud (sovereign clouds:
    # docs/teams/INSTALL.md), and how long that login may take before the request is given up
    login_authority: str = ""  # e.g. https://login.microsoftonline.us/<tenant id>
    oauth_scope: str = ""  # e.g. https://api.botframework.us
    login_timeout_s: float = Field(10.0, gt=0, le=120)
    queue_size: int = Field(100, ge=1, le=100_000)  # pending requests before users are told to retry
    workers: int = Field(8, ge=1, le=1000)  # Teams requests handled at once
    dedupe_ttl_s: float = Field(3600.0, gt=0)  # how long activity ids are remembered
    progress_interval_s: float = Field(1.5, ge=0.5)  # at most one card update per interval
    invoke_wait_s: float = Field(2.0, ge=0, le=4)  # a card click waits this long for the decision


LookupStep = Literal["attribute", "idp_link", "email"]
DEFAULT_LOOKUP: tuple[LookupStep, ...] = ("attribute", "idp_link", "email")


class KeycloakSettings(Section):
    server_url: str = ""  # empty -> static roles file
    realm: str = "opsconductor"
    client_id: str = "opsconductor-bot"
    client_secret: SecretStr = SecretStr("")
    lookup_order: list[LookupStep] = Field(default_factory=lambda: list(DEFAULT_LOOKUP))
    use_client_roles: bool = False
    use_groups: bool = False
    cache_ttl_s: float = Field(300.0, ge=0)
    console_attribute: str = "console_user"  # user attribute holding OS account names (console)


class SshSettings(Section):
    """The service's own SSH identity and files, whoever runs or approves a step (docs/operations.md).

    `username` is the default login (a dedicated account with `sudo -n` rules, not root); stored
    credentials (`opsconductor credentials set`) override it per host, tag or by default.
    `client_keys` are the service's key files; keys in ~/.ssh and an ssh-agent are never used.
    """

    username: str = "opsconductor"
    port: int = Field(22, ge=1, le=65535)
    known_hosts: str = ""  # empty -> <home>/known_hosts (`opsconductor hosts trust` records keys there)
    trust_on_first_use: bool = False
    connect_timeout_s: float = Field(10.0, gt=0)
    command_timeout_s: float = Field(60.0, gt=0)
    max_concurrency: int = Field(512, ge=1, le=5000)
    idle_timeout_s: float = Field(300.0, ge=0)
    max_output_bytes: int = Field(256 * 1024, ge=1024)
    client_keys: list[str] = Field(default_factory=list)


class WinrmSettings(Section):
    username: str = ""
    password: SecretStr = SecretStr("")
    scheme: Literal["http", "https"] = "https"
    port: int = Field(5986, ge=1, le=65535)
    transport: Literal["ntlm", "kerberos", "basic", "credssp", "certificate"] = "ntlm"
    server_cert_validation: Literal["validate", "ignore"] = "validate"
    ca_trust_path: str = ""
    operation_timeout_s: int = Field(20, ge=1, le=600)
    connect_timeout_s: float = Field(10.0, gt=0)
    command_timeout_s: float = Field(60.0, gt=0)
    max_concurrency: int = Field(32, ge=1, le=512)
    max_output_bytes: int = Field(256 * 1024, ge=1024)


class NetworkSettings(Section):
    dns_nameservers: list[str] = Field(default_factory=list)  # empty -> /etc/resolv.conf
    dns_port: int = Field(53, ge=1, le=65535)
    dns_timeout_s: float = Field(5.0, gt=0, le=60)
    hosts_file: str = "/etc/hosts"  # answers A/AAAA/PTR first with the system resolver ('' skips it)
    scan_concurrency: int = Field(500, ge=1, le=10_000)
    port_timeout_s: float = Field(1.0, gt=0, le=30)
    ping_timeout_s: float = Field(1.0, gt=0, le=10)
    ping_interval_s: float = Field(0.2, ge=0, le=5)
    icmp_privileged: bool | None = None  # None: raw sockets as root, datagram sockets otherwise
    traceroute_timeout_s: float = Field(1.0, gt=0, le=10)
    bandwidth_max_s: float = Field(10.0, gt=0, le=60)  # network.bandwidth never sends longer
    bandwidth_max_bytes: int = Field(1 << 30, ge=1 << 16)  # a relayed transfer sends at most this
    iperf3_command: str = Field("iperf3", min_length=1)  # on the targets
    iperf3_port: int = Field(5201, ge=1, le=65535)


class SecuritySettings(Section):
    environment: Literal["development", "production"] = "development"
    roles_file: str = ""  # empty -> the shipped static roles file
    policy_file: str = ""  # empty -> the shipped default policy
    credential_key: SecretStr = SecretStr("")  # base64 32-byte AES-256-GCM key
    # the audit chain's HMAC-SHA256 key (base64, 32 bytes); empty -> <home>/audit.key, made on first use
    audit_key: SecretStr = SecretStr("")
    audit_unkeyed_through: int = Field(0, ge=0)  # with audit_key: records 1..N predate keyed hashes
    audit_head_file: str = ""  # empty -> <home>/audit.head: every new chain head appended, fsync'd
    approval_ttl_s: float = Field(900.0, gt=0)
    undo_ttl_s: float = Field(1800.0, gt=0)  # how long a finished change offers its Undo
    max_message_chars: int = Field(10_000, ge=100)


class NotifySettings(Section):
    channels: dict[str, SecretStr] = Field(default_factory=dict)  # route -> Apprise URL
    retries: int = Field(2, ge=0, le=10)
    backoff_s: float = Field(1.0, ge=0, le=60)
    backoff_max_s: float = Field(30.0, ge=0, le=600)
    attempt_timeout_s: float = Field(15.0, gt=0, le=300)


class ExecutionSettings(Section):
    # Targets of one step run at once up to this bound; adapters bound their own protocols
    # (ssh.max_concurrency, winrm.max_concurrency, network.scan_concurrency).
    max_concurrency: int = Field(1024, ge=1, le=10_000)
    # A running execution whose replica stopped renewing its lease this long is resumed by another.
    driver_lease_s: float = Field(60.0, gt=0, le=3600)
    # A plan's whole run may take this long: targets still running then time out (their results
    # are kept), steps not started are recorded as not started, and the requester is told.
    max_duration_s: float = Field(3600.0, gt=0, le=7 * 86_400)


class JobsSettings(Section):
    """Where plan steps run: here (embedded default) or on `opsconductor worker`s through arq on Redis."""

    engine: Literal["inprocess", "arq"] = "inprocess"
    redis_url: str = ""  # empty -> redis.url; a separate Redis with maxmemory-policy noeviction suits jobs
    queue_name: str = "opsconductor:steps"
    max_jobs: int = Field(50, ge=1, le=10_000)  # steps one worker runs at once
    job_timeout_s: float = Field(3600.0, gt=0)  # the longest a step may run on a worker
    max_tries: int = Field(3, ge=1, le=20)  # runs of one step job, counting retries after a lost worker
    lease_s: float = Field(30.0, ge=2, le=3600)  # a dead worker's step is picked up again after this
    retry_changes: bool = False  # re-run write/critical steps whose worker died mid-step (else: failed)
    lock_wait_s: float = Field(30.0, ge=0, le=3600)  # wait for another run's target locks this long
    poll_s: float = Field(0.1, gt=0, le=5)  # how often a replica checks for a dispatched step's result
    cancel_poll_s: float = Field(2.0, gt=0, le=60)  # a worker's look in the database for a missed cancel


class RateLimitSettings(Section):
    """Requests each person and each channel may send in any sliding window (0: no limit),
    counted across replicas when Redis is configured; every inbound door goes through them."""

    per_person: int = Field(30, ge=0, le=100_000)
    per_channel: int = Field(120, ge=0, le=1_000_000)
    per_token: int = Field(120, ge=0, le=1_000_000)  # HTTP API calls per API token (or OIDC subject)
    window_s: float = Field(60.0, gt=0, le=86_400)


class StageSettings(Section):
    """Time limits of the pipeline's stages; an overrun gets a clear reply and nothing runs.
    Execution is bounded per step by each tool's own timeout."""

    identity_s: float = Field(15.0, gt=0, le=600)  # who is asking (roles file, Keycloak)
    understand_s: float = Field(60.0, gt=0, le=3600)  # stages A-C, LLM calls included
    llm_call_s: float = Field(45.0, gt=0, le=3600)  # one LLM call with its retries; then the grammar answers


class ScheduleSettings(Section):
    """Schedules (`opsconductor schedules`): every serving replica looks for due ticks this often;
    each tick runs once across replicas."""

    enabled: bool = True
    tick_s: float = Field(5.0, gt=0, le=3600)  # how often due schedules are looked for
    max_running: int = Field(20, ge=1, le=10_000)  # scheduled runs one replica drives at once


class RetentionSettings(Section):
    """How long stored results are kept, in days per kind (0: forever); serving replicas prune once
    per `every_s` (one replica per period), `opsconductor history prune` at will. The audit trail
    is never pruned (docs/operations.md, "Retention")."""

    enabled: bool = True  # serving replicas run the pruning job
    every_s: float = Field(86_400.0, ge=60, le=30 * 86_400)  # one run per period (aligned to UTC midnight)
    batch: int = Field(1000, ge=10, le=100_000)  # rows per DELETE (one short transaction each)
    measurements_days: int = Field(90, ge=0)  # pings, port scans, DNS lookups
    bandwidth_days: int = Field(90, ge=0)  # network.bandwidth measurements
    traceroutes_days: int = Field(90, ge=0)  # traceroutes (the network path diagrams)
    executions_days: int = Field(180, ge=0)  # finished executions, their steps' outputs, approvals
    schedule_runs_days: int = Field(90, ge=0)  # one row per schedule tick

    @model_validator(mode="after")
    def _longer_than_the_baselines(self) -> RetentionSettings:
        shortest = BASELINE.days + 1  # a judged sample needs its whole baseline window before it
        for name, days in self.days().items():
            if 0 < days < shortest:
                raise ValueError(
                    f"retention.{name}_days is {days}: keep at least {shortest} days (the anomaly "
                    f"baselines read the {BASELINE.days} days before each sample), or 0 to keep forever"
                )
        return self

    def days(self) -> dict[str, int]:
        """Kind -> days kept (0: forever), for each kind of stored result."""
        return {
            "measurements": self.measurements_days,
            "bandwidth": self.bandwidth_days,
            "traceroutes": self.traceroutes_days,
            "executions": self.executions_days,
            "schedule_runs": self.schedule_runs_days,
        }


class ApiSettings(Section):
    """The HTTP API on `opsconductor serve` (`/api/v1`): personal API tokens, and Keycloak access
    tokens when `oidc_issuer` is set (the realm's public URL, exactly as the tokens' `iss` claim
    says it: behind a proxy or in compose it differs from `keycloak.server_url`)."""

    enabled: bool = True
    console: bool = True  # the web console at /ui/ (needs the API)
    oidc_issuer: str = ""  # e.g. https://sso.example.com/realms/opsconductor; empty: API tokens only
    oidc_audience: str = ""  # the client id access tokens must be meant for; empty: keycloak.client_id
    oidc_jwks_url: str = ""  # empty: <issuer>/protocol/openid-connect/certs
    oidc_leeway_s: float = Field(30.0, ge=0, le=300)  # clock skew allowed on exp / iat
    # The console's "Sign in with Keycloak" (authorization code + PKCE S256) when oidc_issuer is set:
    console_client_id: str = ""  # the realm's client for the console; empty: the audience's client
    console_client_secret: SecretStr = SecretStr("")  # empty: a public client (PKCE alone)
    public_url: str = (
        ""  # where browsers reach this server (https://ops.example.com); empty: the request's host
    )

    @property
    def issuer(self) -> str:
        return self.oidc_issuer.rstrip("/")


class AlertSettings(Section):
    """Alert webhooks (`/api/v1/alerts/...`) that start a read-only diagnosis posted as a thread to a
    Slack channel, a Teams channel, or both."""

    enabled: bool = False
    token: SecretStr = SecretStr("")  # the bearer token Alertmanager / webhooks send
    channel: str = ""  # the Slack channel id where diagnosis threads go (needs slack.enabled)
    teams_channel: str = ""  # the Teams channel id (19:...@thread.tacv2; needs teams.enabled)
    teams_service_url: str = ""  # the team's Bot Connector URL, e.g. https://smba.trafficmanager.net/emea/
    teams_tenant_id: str = ""  # the team's tenant (empty: teams.app_tenant_id)
    arguments: dict[str, str] = Field(
        default_factory=lambda: {"service": "service"}
    )  # runbook argument <- label
    labels: list[str] = Field(default_factory=lambda: ["instance", "host", "hostname", "nodename", "job"])
    runbook: str = ""  # the read-only runbook or tool run for every alert; "": the catalog's (`diagnoses:`)
    runbooks: dict[str, str] = Field(default_factory=dict)  # alert name -> read-only runbook or tool
    remember_s: float = Field(7 * 86400.0, gt=0)  # how long a firing alert's thread is remembered


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    sweep_interval_s: float = Field(30.0, gt=0, le=3600)  # how often expired approvals are swept


def _default_catalog_paths() -> list[Path]:
    from domains.packs import SHIPPED

    return [SHIPPED, DEFAULT_HOME / "catalog"]


class CatalogSettings(Section):
    """Where tool and runbook definitions live (docs/catalog.md); folders that do not exist are
    skipped. The default: the packs shipped with the bot, then ~/.opsconductor/catalog."""

    paths: list[Path] = Field(default_factory=_default_catalog_paths)


class Settings(BaseSettings):
    """Everything configurable, in nested sections."""

    model_config = SettingsConfigDict(
        env_prefix="OPSCONDUCTOR_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    home: Path = DEFAULT_HOME
    config: Path | None = None
    db: DbSettings = Field(default_factory=DbSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    keycloak: KeycloakSettings = Field(default_factory=KeycloakSettings)
    ssh: SshSettings = Field(default_factory=SshSettings)
    winrm: WinrmSettings = Field(default_factory=WinrmSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    stages: StageSettings = Field(default_factory=StageSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    schedules: ScheduleSettings = Field(default_factory=ScheduleSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @property
    def database_url(self) -> str:
        return self.db.url or f"sqlite+aiosqlite:///{self.home / 'opsconductor.db'}"

    @property
    def embedded_default(self) -> bool:
        """Development mode on the SQLite file under home: the only setup seeded with demo data."""
        return self.security.environment == "development" and not self.db.url

    @model_validator(mode="after")
    def refuse_placeholders(self) -> Settings:
        if self.security.environment != "production":
            return self
        for name, secret in _secrets_in_use(self):
            if secret.get_secret_value().strip().lower() in PLACEHOLDERS:
                raise ValueError(f"{name} is empty or a placeholder; set a real secret in production")
        for name, value in _optional_secrets(self):
            if value and value.strip().lower() in PLACEHOLDERS:
                raise ValueError(f"{name} is a placeholder; set a real secret in production")
        return self

    @model_validator(mode="after")
    def doors_verify_callers(self) -> Settings:
        """No setting combination turns caller verification off silently (see `inbound_doors`)."""
        for problem in _contradictions(self):
            raise ValueError(problem)
        if self.security.environment == "production":
            for door in inbound_doors(self):
                if door.problem:
                    why = f"{door.name} would not verify its callers: {door.problem}"
                    raise ValueError(f"production refuses to start: {why}")
        return self

    @model_validator(mode="after")
    def slack_has_its_tokens(self) -> Settings:
        """Slack cannot start without its tokens in any environment: say which of our settings."""
        slack = self.slack
        if slack.enabled and not slack.bot_token.get_secret_value().strip():
            raise ValueError(
                "slack.enabled needs slack.bot_token: set OPSCONDUCTOR_SLACK__BOT_TOKEN to the app's "
                "Bot User OAuth Token (xoxb-..., docs/slack/INSTALL.md)"
            )
        if slack.enabled and slack.mode == "socket" and not slack.app_token.get_secret_value().strip():
            raise ValueError(
                "slack.mode socket needs slack.app_token: set OPSCONDUCTOR_SLACK__APP_TOKEN to the app-level "
                "token with connections:write (xapp-..., docs/slack/INSTALL.md)"
            )
        return self

    @model_validator(mode="after")
    def jobs_need_redis(self) -> Settings:
        if self.jobs.engine == "arq" and not (self.jobs.redis_url or self.redis.url):
            raise ValueError("jobs.engine 'arq' needs redis.url (the job queue lives in Redis)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, ConfigFileSource(settings_cls), file_secret_settings)


def _secrets_in_use(s: Settings) -> list[tuple[str, SecretStr]]:
    used: list[tuple[str, SecretStr]] = [("security.credential_key", s.security.credential_key)]
    if s.slack.enabled:  # the signing secret / app token: inbound_doors
        used.append(("slack.bot_token", s.slack.bot_token))
    if s.keycloak.server_url:
        used.append(("keycloak.client_secret", s.keycloak.client_secret))
    return used


def _optional_secrets(s: Settings) -> list[tuple[str, str]]:
    """Secrets that may be absent but never a placeholder (e.g. a password left as 'changeme')."""
    return [
        ("db.url password", urlsplit(s.db.url).password or ""),
        ("redis.url password", urlsplit(s.redis.url).password or ""),
        ("jobs.redis_url password", urlsplit(s.jobs.redis_url).password or ""),
        ("llm.api_key", s.llm.api_key.get_secret_value()),
        ("security.audit_key", s.security.audit_key.get_secret_value()),
        ("api.console_client_secret", s.api.console_client_secret.get_secret_value()),
    ]


# --------------------------------------------------------------------------- inbound doors


class InboundDoor(NamedTuple):
    """An enabled way in for requests, and why it would not verify its callers ("" when it does)."""

    name: str
    problem: str


DoorCheck = Callable[[Settings], InboundDoor | None]


def inbound_doors(s: Settings) -> list[InboundDoor]:
    """Every enabled inbound door. Production refuses to start when any has a problem; outside
    production (the embedded default) a door without verification is allowed and logged.
    A new door (an HTTP API, webhooks) adds its check to DOOR_CHECKS."""
    return [door for check in DOOR_CHECKS if (door := check(s)) is not None]


def _slack_door(s: Settings) -> InboundDoor | None:
    if not s.slack.enabled:
        return None
    if s.slack.mode == "socket":  # Slack signs nothing here: the app token authenticates the connection
        return InboundDoor("slack (Socket Mode)", _unset("slack.app_token", s.slack.app_token))
    return InboundDoor("slack (HTTP /slack/events)", _unset("slack.signing_secret", s.slack.signing_secret))


def _teams_door(s: Settings) -> InboundDoor | None:
    t = s.teams
    if not t.enabled:
        return None
    name = "teams (/api/messages)"
    if not t.app_id.strip():
        return InboundDoor(name, "teams.app_id is empty, which turns Bot Framework token validation off")
    if t.app_type == "SingleTenant" and not t.app_tenant_id.strip():
        return InboundDoor(name, "teams.app_type SingleTenant needs teams.app_tenant_id")
    for setting, url in (
        ("teams.openid_metadata_url", t.openid_metadata_url),
        ("teams.login_authority", t.login_authority),
    ):
        if url and not _https_or_loopback(url):
            return InboundDoor(name, f"{setting} must be an https URL (plain http only on loopback)")
    if t.app_type == "UserAssignedMSI" or _teams_certificate(s):
        return InboundDoor(name, "")
    unset = _unset("teams.app_password", t.app_password)
    if unset:
        unset += " (or set teams.certificate_thumbprint and teams.certificate_key_file)"
    return InboundDoor(name, unset)


def _api_door(s: Settings) -> InboundDoor | None:
    if not s.api.enabled:
        return None
    name = "http api (/api/v1)"
    issuer = s.api.issuer
    urls = (
        ("api.oidc_issuer", issuer),
        ("api.oidc_jwks_url", s.api.oidc_jwks_url),
        ("api.public_url", s.api.public_url),
    )
    for setting, url in urls:
        if url and not _https_or_loopback(url):
            return InboundDoor(name, f"{setting} must be an https URL (plain http only on loopback)")
    return InboundDoor(name, "")  # every call needs an API token (stored hashed) or a verified JWT


def _alerts_door(s: Settings) -> InboundDoor | None:
    if not s.alerts.enabled:
        return None
    return InboundDoor("alert webhooks (/api/v1/alerts)", _unset("alerts.token", s.alerts.token))


DOOR_CHECKS: tuple[DoorCheck, ...] = (_slack_door, _teams_door, _api_door, _alerts_door)


def _contradictions(s: Settings) -> list[str]:
    """Settings that look secured but are not, refused in every environment."""
    t = s.teams
    if t.enabled and not t.app_id.strip() and (t.app_password.get_secret_value() or _teams_certificate(s)):
        return [
            "teams.app_password or a certificate is set but teams.app_id is empty, which would turn "
            "Bot Framework token validation off; set teams.app_id"
        ]
    if bool(t.certificate_thumbprint) != bool(t.certificate_key_file):
        return [
            "teams.certificate_thumbprint and teams.certificate_key_file go together; set both or neither"
        ]
    return []


def _teams_certificate(s: Settings) -> bool:
    return bool(s.teams.certificate_thumbprint.strip() and s.teams.certificate_key_file.strip())


def _unset(name: str, secret: SecretStr) -> str:
    if secret.get_secret_value().strip().lower() in PLACEHOLDERS:
        return f"{name} is empty or a placeholder"
    return ""


def _https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class ConfigFileSource(PydanticBaseSettingsSource):
    """Reads the optional config file named by OPSCONDUCTOR_CONFIG (YAML or TOML)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = self.current_state.get("config") or os.environ.get("OPSCONDUCTOR_CONFIG")
        if not path:
            return {}
        return load_config_file(Path(path))


def load_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read config file {path}: {err.strerror}") from err
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else safe_yaml.load(text, str(path))
    except safe_yaml.YamlRefused as err:
        raise ValueError(str(err)) from None
    except yaml.YAMLError as err:
        raise ValueError(safe_yaml.located(err, str(path))) from None
    except tomllib.TOMLDecodeError as err:  # "Illegal character '\n' (at line 2, column 9)"
        found = TOML_WHERE.search(str(err))
        line, problem = (found["line"], str(err)[: found.start()].strip()) if found else ("1", str(err))
        raise ValueError(f"{path}:{line}: invalid TOML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must hold a mapping")
    return data
