"""KeycloakResolver against the Keycloak stand-in: lookups, roles, caching, outages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.cache import InProcessCache, RedisCache
from pipeline.contracts import ChatIdentity
from pipeline.errors import IdentityUnavailable
from tests.adapters.keycloak.conftest import ManualClock, ResolverFactory
from tests.fakes.keycloak_server import FakeGroup, FakeUser, KeycloakStandIn

DEFAULT_ROLES = {"default-roles-opsconductor", "offline_access", "uma_authorization"}


def slack(team: str, user: str, email: str | None = None) -> ChatIdentity:
    return ChatIdentity(platform="slack", tenant=team, user_id=user, email=email)


def teams(user: str, email: str | None = None) -> ChatIdentity:
    return ChatIdentity(platform="teams", tenant="tenant-1", user_id=user, email=email)


def user_id(keycloak: KeycloakStandIn, username: str) -> str:
    return next(u.id for u in keycloak.users if u.username == username)


def user_searches(keycloak: KeycloakStandIn) -> list[str]:
    return [r for r in keycloak.requests if r.startswith("GET /admin/realms/opsconductor/users?")]


# ---------------------------------------------------------------------------- lookup paths


async def test_slack_user_by_attribute(keycloak: KeycloakStandIn, make_resolver: ResolverFactory) -> None:
    principal = await make_resolver().resolve(slack("T1", "UALICE"))
    assert principal is not None
    assert principal.subject == user_id(keycloak, "alice")
    assert principal.display_name == "Alice Example"
    assert principal.roles == {"operator", "approver", "viewer"} | DEFAULT_ROLES
    assert principal.identity == slack("T1", "UALICE")
    assert any("q=slack_id:T1:UALICE" in r for r in user_searches(keycloak))
    assert keycloak.requests[0] == "POST /realms/opsconductor/protocol/openid-connect/token"


async def test_slack_member_id_in_another_workspace_is_not_alice(make_resolver: ResolverFactory) -> None:
    assert await make_resolver().resolve(slack("T2", "UALICE")) is None


async def test_teams_user_by_aad_object_id_attribute(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    principal = await make_resolver().resolve(teams("aad-alice"))
    assert principal is not None and principal.subject == user_id(keycloak, "alice")


async def test_slack_and_teams_users_by_identity_provider_link(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    resolver = make_resolver()
    by_slack = await resolver.resolve(slack("T1", "UBOB"))
    by_teams = await resolver.resolve(teams("aad-bob"))
    assert by_slack is not None and by_teams is not None
    assert by_slack.subject == by_teams.subject == user_id(keycloak, "bob")
    assert by_slack.display_name == "bob"  # no first/last name: the username
    assert by_slack.roles == {"viewer"} | DEFAULT_ROLES
    searches = user_searches(keycloak)
    assert any("idpAlias=slack" in r and "idpUserId=UBOB" in r for r in searches)
    assert any("idpAlias=microsoft" in r and "idpUserId=aad-bob" in r for r in searches)
    upper = await resolver.resolve(teams("AAD-BOB"))  # Entra object ids are case-insensitive
    assert upper is not None and upper.subject == by_teams.subject


async def test_email_when_ids_are_unknown(keycloak: KeycloakStandIn, make_resolver: ResolverFactory) -> None:
    resolver = make_resolver()
    by_slack = await resolver.resolve(slack("T1", "UCAROL", "Carol@Example.com"))
    by_upn = await resolver.resolve(teams("aad-carol", "carol@example.com"))
    assert by_slack is not None and by_upn is not None
    assert by_slack.subject == by_upn.subject == user_id(keycloak, "carol")
    assert {"admin", "operator", "viewer"} <= by_slack.roles
    assert any("email=carol@example.com" in r and "exact=true" in r for r in user_searches(keycloak))


async def test_unverified_email_is_not_trusted_unless_configured(make_resolver: ResolverFactory) -> None:
    identity = slack("T1", "UERIN", "erin@example.com")
    assert await make_resolver().resolve(identity) is None
    principal = await make_resolver(InProcessCache(), require_verified_email=False).resolve(identity)
    assert principal is not None and "admin" in principal.roles


async def test_disabled_user_is_none(keycloak: KeycloakStandIn, make_resolver: ResolverFactory) -> None:
    assert await make_resolver().resolve(slack("T1", "UDAVE", "dave@example.com")) is None
    assert not any("role-mappings" in r for r in keycloak.requests)  # no roles fetched


async def test_unknown_person_is_none(make_resolver: ResolverFactory) -> None:
    assert await make_resolver().resolve(slack("T1", "UNOBODY", "nobody@example.com")) is None


async def test_platform_without_mapping_or_email_asks_nothing(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    assert await make_resolver().resolve(ChatIdentity(platform="irc", user_id="root")) is None
    assert user_searches(keycloak) == []


async def test_console_user_by_os_account_attribute(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    """The console's OS account maps through the `console_user` attribute like any chat id."""
    keycloak.add_user(
        FakeUser(username="olga", attributes={"console_user": ["olga", "oadmin"]}, realm_roles=["approver"])
    )
    resolver = make_resolver(cache_ttl_s=0)
    for account in ("olga", "oadmin"):
        principal = await resolver.resolve(ChatIdentity(platform="console", user_id=account))
        assert principal is not None and principal.subject == user_id(keycloak, "olga")
        assert "approver" in principal.roles
    assert await resolver.resolve(ChatIdentity(platform="console", user_id="alice")) is None
    assert any("q=console_user:olga" in r for r in user_searches(keycloak))


async def test_ambiguous_email_matches_nobody(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    keycloak.add_user(FakeUser(username="alice2", email="shared@example.com", realm_roles=["admin"]))
    keycloak.add_user(FakeUser(username="alice3", email="shared@example.com", realm_roles=["viewer"]))
    assert await make_resolver().resolve(slack("T1", "UX", "shared@example.com")) is None


# ---------------------------------------------------------------------------- lookup order


async def test_lookup_order_decides_which_user_wins(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    identity = slack("T1", "UALICE", "carol@example.com")  # attribute says alice, e-mail says carol
    first = await make_resolver(cache_ttl_s=0).resolve(identity)
    assert first is not None and first.subject == user_id(keycloak, "alice")
    email_first = await make_resolver(cache_ttl_s=0, lookup_order=["email", "attribute"]).resolve(identity)
    assert email_first is not None and email_first.subject == user_id(keycloak, "carol")


async def test_lookup_stops_at_the_first_match(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    await make_resolver().resolve(slack("T1", "UALICE", "alice@example.com"))
    searches = user_searches(keycloak)
    assert len(searches) == 1 and "q=slack_id" in searches[0]


async def test_only_configured_methods_are_tried(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    resolver = make_resolver(lookup_order=["email"])
    assert await resolver.resolve(slack("T1", "UALICE")) is None  # no e-mail given: nothing to try
    assert user_searches(keycloak) == []


# ---------------------------------------------------------------------------- roles


async def test_roles_from_realm_client_and_groups(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    keycloak.groups["/ops/oncall"] = FakeGroup("/ops/oncall", realm_roles=["approver"])
    keycloak.client_composites["deployer"] = ["viewer"]
    keycloak.add_user(
        FakeUser(
            username="frank",
            attributes={"slack_id": ["T1:UFRANK"]},
            client_roles={"opsconductor-bot": ["deployer"], "other-client": ["ignored"]},
            groups=["/ops/oncall", "/dba"],
        )
    )
    plain = await make_resolver(cache_ttl_s=0).resolve(slack("T1", "UFRANK"))
    assert plain is not None
    assert plain.roles == {"approver"} | DEFAULT_ROLES  # group realm roles are effective realm roles
    assert not any("/groups" in r or "/clients" in r for r in keycloak.requests)

    full = await make_resolver(
        cache_ttl_s=0,
        use_client_roles=True,
        use_groups=True,
        group_roles={"dba": ["operator"], "/ops": ["x"]},
    ).resolve(slack("T1", "UFRANK"))
    assert full is not None
    assert (
        full.roles
        == {"approver", "deployer", "viewer", "group:oncall", "group:dba", "operator"} | DEFAULT_ROLES
    )


async def test_client_uuid_is_looked_up_once(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    resolver = make_resolver(cache_ttl_s=0, use_client_roles=True)
    await resolver.resolve(slack("T1", "UALICE"))
    await resolver.resolve(slack("T1", "UBOB"))
    assert sum(r.startswith("GET /admin/realms/opsconductor/clients?") for r in keycloak.requests) == 1


async def test_group_membership_is_paged(keycloak: KeycloakStandIn, make_resolver: ResolverFactory) -> None:
    paths = [f"/g{i:03d}" for i in range(105)]
    keycloak.add_user(FakeUser(username="many", attributes={"slack_id": ["T1:UMANY"]}, groups=paths))
    principal = await make_resolver(use_groups=True).resolve(slack("T1", "UMANY"))
    assert principal is not None
    assert {r for r in principal.roles if r.startswith("group:")} == {f"group:g{i:03d}" for i in range(105)}
    pages = [r for r in keycloak.requests if "/groups?" in r]
    assert len(pages) == 2
    assert "first=0" in pages[0] and "first=100" in pages[1]


# ---------------------------------------------------------------------------- caching


async def test_second_resolve_is_served_from_the_cache(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    resolver = make_resolver()
    first = await resolver.resolve(slack("T1", "UALICE"))
    calls = len(keycloak.requests)
    again = ChatIdentity(platform="slack", tenant="T1", user_id="UALICE", display_name="alice (renamed)")
    second = await resolver.resolve(again)
    assert len(keycloak.requests) == calls
    assert second is not None and first is not None
    assert (second.subject, second.roles) == (first.subject, first.roles)
    assert second.identity == again  # the identity is the caller's, not the cached one


async def test_fresh_resolve_sees_revoked_roles_at_once(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    """Approver rights are checked at click time: a revoked role counts before the cache expires."""
    resolver = make_resolver(cache_ttl_s=300)
    cached = await resolver.resolve(slack("T1", "UALICE"))
    assert cached is not None
    alice = next(u for u in keycloak.users if u.username == "alice")
    alice.realm_roles = []
    assert (await resolver.resolve(slack("T1", "UALICE"))).roles == cached.roles  # type: ignore[union-attr]
    fresh = await resolver.resolve(slack("T1", "UALICE"), fresh=True)
    assert fresh is not None and fresh.roles == DEFAULT_ROLES and fresh.roles != cached.roles
    await keycloak.stop()
    during_outage = await resolver.resolve(slack("T1", "UALICE"), fresh=True)
    assert during_outage is not None and during_outage.roles == DEFAULT_ROLES  # cache bridges


async def test_unknown_people_are_remembered_briefly(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory, clock: ManualClock
) -> None:
    resolver = make_resolver(negative_cache_ttl_s=30)
    assert await resolver.resolve(slack("T1", "UNEW")) is None
    calls = len(keycloak.requests)
    assert await resolver.resolve(slack("T1", "UNEW")) is None
    assert len(keycloak.requests) == calls
    keycloak.add_user(
        FakeUser(username="newbie", attributes={"slack_id": ["T1:UNEW"]}, realm_roles=["viewer"])
    )
    clock.advance(31)
    principal = await resolver.resolve(slack("T1", "UNEW"))
    assert principal is not None and "viewer" in principal.roles


async def test_concurrent_resolves_share_one_lookup(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    resolver = make_resolver()
    results = await asyncio.gather(*(resolver.resolve(slack("T1", "UALICE")) for _ in range(8)))
    assert len({r.subject for r in results if r is not None}) == 1
    assert len(user_searches(keycloak)) == 1


async def test_zero_ttl_disables_caching(keycloak: KeycloakStandIn, make_resolver: ResolverFactory) -> None:
    resolver = make_resolver(cache_ttl_s=0)
    await resolver.resolve(slack("T1", "UALICE"))
    await resolver.resolve(slack("T1", "UALICE"))
    assert len(user_searches(keycloak)) == 2


class BrokenCache:
    """A cache whose backend is down."""

    async def get(self, key: str) -> bytes | None:
        raise ConnectionError("cache down")

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        raise ConnectionError("cache down")

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        raise ConnectionError("cache down")

    async def delete(self, key: str) -> None:
        raise ConnectionError("cache down")


async def test_a_broken_cache_falls_back_to_keycloak(make_resolver: ResolverFactory) -> None:
    principal = await make_resolver(BrokenCache()).resolve(slack("T1", "UALICE"))
    assert principal is not None and "operator" in principal.roles


async def test_malformed_cache_entry_is_ignored(
    make_resolver: ResolverFactory, cache: InProcessCache
) -> None:
    resolver = make_resolver()
    await cache.set(resolver.cache_key(slack("T1", "UALICE")), b"{not json", ttl_s=60)
    principal = await resolver.resolve(slack("T1", "UALICE"))
    assert principal is not None and "operator" in principal.roles


# ---------------------------------------------------------------------------- outages


async def test_outage_is_bridged_by_the_cache_until_it_expires(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory, clock: ManualClock
) -> None:
    resolver = make_resolver(cache_ttl_s=300)
    before = await resolver.resolve(slack("T1", "UALICE"))
    await keycloak.stop()

    clock.advance(299)
    during = await resolver.resolve(slack("T1", "UALICE"))
    assert during is not None and before is not None and during.roles == before.roles

    with pytest.raises(IdentityUnavailable, match="cannot connect"):
        await resolver.resolve(slack("T1", "UBOB"))  # never cached: fail closed at once

    clock.advance(2)
    with pytest.raises(IdentityUnavailable) as caught:
        await resolver.resolve(slack("T1", "UALICE"))
    message = str(caught.value)
    assert keycloak.url in message and "refused until Keycloak answers again" in message


async def test_a_hanging_keycloak_is_unavailable(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    keycloak.stall = asyncio.Event()
    try:
        with pytest.raises(IdentityUnavailable, match=r"no answer within 0\.2s"):
            await make_resolver(timeout_s=0.2).resolve(slack("T1", "UALICE"))
    finally:
        keycloak.stall.set()


async def test_rejected_service_account_is_unavailable_with_a_hint(make_resolver: ResolverFactory) -> None:
    with pytest.raises(IdentityUnavailable, match="service account was refused"):
        await make_resolver(client_secret="wrong").resolve(slack("T1", "UALICE"))


async def test_expired_token_is_replaced(keycloak: KeycloakStandIn, make_resolver: ResolverFactory) -> None:
    resolver = make_resolver(cache_ttl_s=0)
    assert await resolver.resolve(slack("T1", "UALICE")) is not None
    assert keycloak.tokens_issued == 1
    keycloak.revoke_tokens()
    assert await resolver.resolve(slack("T1", "UALICE")) is not None
    assert keycloak.tokens_issued == 2


async def test_short_lived_token_is_renewed_before_use(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    keycloak.token_lifetime_s = 0  # python-keycloak renews at 90% of the lifetime
    resolver = make_resolver(cache_ttl_s=0)
    await resolver.resolve(slack("T1", "UALICE"))
    await resolver.resolve(slack("T1", "UALICE"))
    assert keycloak.tokens_issued >= 2


# ---------------------------------------------------------------------------- production cache


@pytest.fixture
async def redis_cache(redis_url: str) -> AsyncIterator[RedisCache]:
    cache = RedisCache.from_url(redis_url, prefix="kc-test:")
    yield cache
    await cache.close()


@pytest.mark.redis
async def test_redis_cache_is_shared_between_replicas(
    keycloak: KeycloakStandIn, make_resolver: ResolverFactory, redis_cache: RedisCache
) -> None:
    first = await make_resolver(redis_cache).resolve(slack("T1", "UALICE"))
    calls = len(keycloak.requests)
    await keycloak.stop()  # the second replica never reaches Keycloak
    second = await make_resolver(redis_cache).resolve(slack("T1", "UALICE"))
    assert len(keycloak.requests) == calls
    assert first is not None and second is not None
    assert (second.subject, second.roles) == (first.subject, first.roles)


def test_in_process_cache_satisfies_the_port(cache: InProcessCache) -> None:
    assert callable(cache.get) and callable(cache.set)
