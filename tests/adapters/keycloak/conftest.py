"""Fixtures: the Keycloak stand-in with a small realm, a manual clock, a cache, a resolver factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.cache import InProcessCache
from adapters.keycloak import KeycloakConfig, KeycloakResolver
from pipeline.ports import Cache
from tests.fakes.keycloak_server import FakeUser, KeycloakStandIn


class ManualClock:
    """A clock the test moves; shared by the cache and the resolver."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def cache(clock: ManualClock) -> InProcessCache:
    return InProcessCache(clock=clock)


@pytest.fixture
async def keycloak() -> AsyncIterator[KeycloakStandIn]:
    server = KeycloakStandIn()
    server.realm_composites.update({"operator": ["viewer"], "admin": ["operator", "viewer"]})
    server.add_user(
        FakeUser(
            username="alice",
            email="alice@example.com",
            first_name="Alice",
            last_name="Example",
            attributes={"slack_id": ["T1:UALICE"], "teams_aad_id": ["aad-alice"]},
            realm_roles=["operator", "approver"],
        )
    )
    server.add_user(
        FakeUser(
            username="bob",
            email="bob@example.com",
            idp_links=[("slack", "UBOB"), ("microsoft", "aad-bob")],
            realm_roles=["viewer"],
        )
    )
    server.add_user(FakeUser(username="carol", email="carol@example.com", realm_roles=["admin"]))
    server.add_user(
        FakeUser(username="dave", email="dave@example.com", attributes={"slack_id": ["T1:UDAVE"]},
                 enabled=False, realm_roles=["admin"])
    )  # fmt: skip
    server.add_user(
        FakeUser(username="erin", email="erin@example.com", email_verified=False, realm_roles=["admin"])
    )
    await server.start()
    yield server
    await server.stop()
    assert server.unexpected == [], (
        f"python-keycloak called paths the stand-in does not serve: {server.unexpected}"
    )


ResolverFactory = Callable[..., KeycloakResolver]


@pytest.fixture
async def make_resolver(
    keycloak: KeycloakStandIn, cache: InProcessCache, clock: ManualClock
) -> AsyncIterator[ResolverFactory]:
    made: list[KeycloakResolver] = []

    def make(cache_: Cache | None = None, **overrides: Any) -> KeycloakResolver:
        settings: dict[str, Any] = {
            "server_url": keycloak.url.rstrip("/"),  # the config adds the slash python-keycloak needs
            "realm": keycloak.realm,
            "client_id": keycloak.client_id,
            "client_secret": keycloak.client_secret,
            "timeout_s": 5.0,
        }
        settings.update(overrides)
        resolver = KeycloakResolver(
            KeycloakConfig(**settings), cache if cache_ is None else cache_, clock=clock
        )
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        await resolver.aclose()
