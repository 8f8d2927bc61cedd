"""The optional parts of the composition root: identity source, LLM, tool services.

Each function looks at one settings section and returns the implementation it names,
so `bot.app` reads as a list of ports and what fills them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from db.assets import SqlAssetRepository
from pipeline.planner import Understander
from pipeline.ports import Cache, IdentityResolver

Closer = Callable[[], Awaitable[None]]


async def identity_resolver(settings: Settings, cache: Cache, closers: list[Closer]) -> IdentityResolver:
    """Keycloak when a server is configured, else the static roles file."""
    if settings.keycloak.server_url:
        from adapters.keycloak import KeycloakConfig, KeycloakResolver

        kc = settings.keycloak
        config = KeycloakConfig(
            server_url=kc.server_url,
            realm=kc.realm,
            client_id=kc.client_id,
            client_secret=kc.client_secret.get_secret_value(),
            lookup_order=list(kc.lookup_order),
            use_client_roles=kc.use_client_roles,
            use_groups=kc.use_groups,
            cache_ttl_s=kc.cache_ttl_s,
        )
        resolver = KeycloakResolver(config, cache)
        closers.append(resolver.aclose)
        return resolver
    from bot.app import static_resolver

    return static_resolver(settings)


def llm_understander(settings: Settings, cache: Cache, closers: list[Closer]) -> Understander | None:
    """The LLM fallback for phrasings the grammar does not carry; None without an LLM."""
    if not settings.llm.base_url:
        return None
    from adapters.llm.openai_client import OpenAIClientConfig, OpenAICompatibleClient
    from pipeline.llm_understander import LLMUnderstander

    client = OpenAICompatibleClient(OpenAIClientConfig.from_settings(settings.llm), cache=cache)
    closers.append(client.aclose)
    return LLMUnderstander(client)


async def tool_services(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    assets: SqlAssetRepository,
) -> tuple[dict[type[Any], Any], list[Closer]]:
    """Services the domains' tools look up with `ctx.get(PortType)`."""
    services: dict[type[Any], Any] = {}
    closers: list[Closer] = []
    return services, closers
