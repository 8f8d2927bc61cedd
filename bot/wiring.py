"""The optional parts of the composition root: identity source, LLM, tool services.

Each function looks at one settings section and returns the implementation it names,
so `bot.app` reads as a list of ports and what fills them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from db.assets import SqlAssetRepository
from db.credentials import SqlCredentialStore
from db.files import SqlFileStore
from db.network_results import SqlNetworkResults
from db.templates import SqlDeliveryLog, SqlTemplateStore, seed_default_templates
from domains.assets.directory import AssetStore
from domains.automation.ports import (
    FetchedFiles,
    FileTemplates,
    HostCredential,
    RemoteFiles,
    RemoteShell,
    WindowsRemote,
)
from domains.communication.config import NotifyConfig
from domains.communication.services import communication_services
from domains.network.config import NetworkConfig
from domains.network.ports import NetworkResults, ShellPipe
from domains.network.services import network_services
from pipeline.admission import Admission, Limit
from pipeline.contracts import AssetRef
from pipeline.planner import LanguageModel
from pipeline.ports import AssetDirectory, Cache, IdentityResolver
from pipeline.stages.answer import ResultSummarizer

if TYPE_CHECKING:
    from adapters.ssh.config import SshConfig

Closer = Callable[[], Awaitable[None]]


def admission(settings: Settings, closers: list[Closer]) -> Admission:
    """Rate limits per person and per channel (Redis when configured, shared by replicas)."""
    from adapters.cache import build_rate_limiter

    limiter = build_rate_limiter(settings.redis.url, settings.redis.key_prefix)
    closers.append(limiter.close)
    limits = settings.rate_limits
    return Admission(
        limiter,
        {
            "person": Limit(limits.per_person, limits.window_s),
            "channel": Limit(limits.per_channel, limits.window_s),
            "token": Limit(limits.per_token, limits.window_s),
        },
    )


async def identity_resolver(settings: Settings, cache: Cache, closers: list[Closer]) -> IdentityResolver:
    """Keycloak when a server is configured, else the static roles file."""
    if settings.keycloak.server_url:
        from adapters.keycloak import KeycloakConfig, KeycloakResolver
        from adapters.keycloak.config import PlatformLookup

        kc = settings.keycloak
        platforms = KeycloakConfig(server_url=kc.server_url).platforms
        config = KeycloakConfig(
            server_url=kc.server_url,
            realm=kc.realm,
            client_id=kc.client_id,
            client_secret=kc.client_secret.get_secret_value(),
            lookup_order=list(kc.lookup_order),
            use_client_roles=kc.use_client_roles,
            use_groups=kc.use_groups,
            cache_ttl_s=kc.cache_ttl_s,
            platforms={**platforms, "console": PlatformLookup(attribute=kc.console_attribute)},
        )
        resolver = KeycloakResolver(config, cache)
        closers.append(resolver.aclose)
        return resolver
    from bot.app import static_resolver

    return static_resolver(settings)


def llm_understander(settings: Settings, cache: Cache, closers: list[Closer]) -> LanguageModel | None:
    """The LLM: fallback for phrasings the grammar does not carry, and the check of the changes it
    reads from free text; None without an LLM."""
    return llm(settings, cache, closers)[0]


def llm(
    settings: Settings, cache: Cache, closers: list[Closer]
) -> tuple[LanguageModel | None, ResultSummarizer | None]:
    """The LLM's duties over one client: understanding (with confirmation) and, when
    `llm.summarize_results` is on, summaries of results; (None, None) without an LLM."""
    if not settings.llm.base_url:
        return None, None
    from adapters.llm.openai_client import OpenAIClientConfig, OpenAICompatibleClient
    from pipeline.llm_understander import LLMResultSummarizer, LLMUnderstander

    client = OpenAICompatibleClient(OpenAIClientConfig.from_settings(settings.llm), cache=cache)
    closers.append(client.aclose)
    summarizer = LLMResultSummarizer(client) if settings.llm.summarize_results else None
    return LLMUnderstander(client), summarizer


class StoredCredentials:
    """The encrypted credential store as the SSH and WinRM adapters see it (CredentialSource):
    the most specific stored login of a host (host > tag > default, domains.assets.credential_scope)."""

    def __init__(self, store: SqlCredentialStore) -> None:
        self.store = store

    async def get(self, asset: AssetRef) -> HostCredential | None:
        found = await self.store.resolve(asset)
        if found is None:
            return None
        if found.kind == "ssh_key":
            return HostCredential(found.username or None, private_key=found.secret)
        return HostCredential(found.username or None, password=found.secret)


def known_hosts_file(settings: Settings) -> Path:
    """The service's known_hosts: ssh.known_hosts, else <home>/known_hosts (never a person's ~/.ssh)."""
    configured = settings.ssh.known_hosts.strip()
    return Path(configured).expanduser() if configured else settings.home / "known_hosts"


def ssh_config(settings: Settings) -> SshConfig:
    from adapters.ssh.config import SshConfig

    return SshConfig.from_settings(settings.ssh, known_hosts=str(known_hosts_file(settings)))


async def tool_services(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    assets: SqlAssetRepository,
) -> tuple[dict[type[Any], Any], list[Closer]]:
    """Services the domains' tools look up with `ctx.get(PortType)`."""
    from adapters.localfiles import DirectoryFetchedFiles, DirectoryTemplates
    from adapters.ssh.files import AsyncsshFiles
    from adapters.ssh.shell import AsyncsshShell
    from adapters.winrm.config import WinrmConfig
    from adapters.winrm.remote import PywinrmRemote

    credentials = StoredCredentials(SqlCredentialStore(sessions, assets.cipher))
    shell = AsyncsshShell(ssh_config(settings), credentials)
    winrm = settings.winrm
    windows = PywinrmRemote(
        WinrmConfig.from_settings(
            winrm,
            password=winrm.password if winrm.password.get_secret_value() else None,
            ca_trust_path=winrm.ca_trust_path or None,
        ),
        credentials,
    )
    net = settings.network
    network, close_network = network_services(
        NetworkConfig(
            dns_nameservers=tuple(net.dns_nameservers),
            dns_port=net.dns_port,
            dns_timeout_s=net.dns_timeout_s,
            hosts_file=net.hosts_file,
            scan_concurrency=net.scan_concurrency,
            port_timeout_s=net.port_timeout_s,
            ping_timeout_s=net.ping_timeout_s,
            ping_interval_s=net.ping_interval_s,
            icmp_privileged=net.icmp_privileged,
            traceroute_timeout_s=net.traceroute_timeout_s,
            bandwidth_max_s=net.bandwidth_max_s,
            bandwidth_max_bytes=net.bandwidth_max_bytes,
            iperf3_command=net.iperf3_command,
            iperf3_port=net.iperf3_port,
        )
    )
    templates = SqlTemplateStore(sessions)
    await seed_default_templates(templates)
    notify = settings.notify
    communication = communication_services(
        NotifyConfig(
            channels=dict(notify.channels),
            retries=notify.retries,
            backoff_s=notify.backoff_s,
            backoff_max_s=notify.backoff_max_s,
            attempt_timeout_s=notify.attempt_timeout_s,
        ),
        templates=templates,
        delivery_log=SqlDeliveryLog(sessions),
    )
    services: dict[type[Any], Any] = {
        RemoteShell: shell,
        RemoteFiles: AsyncsshFiles(shell),
        FetchedFiles: SqlFileStore(sessions, DirectoryFetchedFiles(settings.home / "files").keep),
        FileTemplates: DirectoryTemplates([path / "templates" for path in settings.catalog.paths]),
        WindowsRemote: windows,
        AssetStore: assets,
        AssetDirectory: assets,  # copy_file's destination, by name
        NetworkResults: SqlNetworkResults(sessions),
        ShellPipe: shell,
        **network,
        **communication,
    }
    return services, [shell.close, windows.close, close_network]
