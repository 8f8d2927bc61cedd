"""docker/keycloak/realm-export.json: well-formed, complete, and consistent with the bot's defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from adapters.keycloak import KeycloakConfig
from adapters.keycloak.config import PlatformLookup
from bot.settings import KeycloakSettings
from pipeline.contracts import ChatIdentity
from tests.adapters.keycloak.conftest import ResolverFactory
from tests.fakes.keycloak_server import FakeGroup, FakeUser, KeycloakStandIn

EXPORT = Path(__file__).resolve().parents[3] / "docker" / "keycloak" / "realm-export.json"
ROLES = {"viewer", "operator", "approver", "admin"}


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXPORT.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def profile(realm: dict[str, Any]) -> dict[str, Any]:
    (component,) = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    assert component["providerId"] == "declarative-user-profile"
    (config,) = component["config"]["kc.user.profile.config"]
    data: dict[str, Any] = json.loads(config)
    return data


def _roles(realm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in realm["roles"]["realm"]}


def _users(realm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["username"]: u for u in realm["users"]}


def test_realm_matches_the_bot_defaults(realm: dict[str, Any]) -> None:
    defaults = KeycloakConfig(server_url="http://keycloak:8080")
    assert realm["realm"] == defaults.realm == "opsconductor"
    assert realm["enabled"] is True
    assert realm["registrationAllowed"] is False  # nobody gives themselves an identity


def test_roles_and_composites(realm: dict[str, Any]) -> None:
    roles = _roles(realm)
    assert set(roles) == ROLES
    assert roles["operator"]["composites"] == {"realm": ["viewer"]}
    assert sorted(roles["admin"]["composites"]["realm"]) == ["operator", "viewer"]
    assert not roles["viewer"]["composite"] and not roles["approver"]["composite"]
    assert all(r["description"] for r in roles.values())


def test_confidential_client_with_service_account(realm: dict[str, Any]) -> None:
    (client,) = [
        c for c in realm["clients"] if c["clientId"] == KeycloakConfig(server_url="http://k").client_id
    ]
    assert client["publicClient"] is False
    assert client["clientAuthenticatorType"] == "client-secret"
    assert client["serviceAccountsEnabled"] is True
    assert client["fullScopeAllowed"] is True  # the token must carry the realm-management roles
    assert not (
        client["standardFlowEnabled"] or client["directAccessGrantsEnabled"] or client["implicitFlowEnabled"]
    )
    assert re.fullmatch(r"\$\{[A-Z0-9_]+\}", client["secret"]), "the secret comes from the environment"

    account = _users(realm)["service-account-opsconductor-bot"]
    assert account["serviceAccountClientId"] == "opsconductor-bot"
    granted = set(account["clientRoles"]["realm-management"])
    assert {"view-users", "query-users"} <= granted
    assert not granted & {"manage-users", "realm-admin", "manage-clients", "view-clients"}


def test_user_profile_declares_the_chat_id_attributes(profile: dict[str, Any]) -> None:
    attributes = {a["name"]: a for a in profile["attributes"]}
    assert {"username", "email", "firstName", "lastName"} <= set(attributes)
    defaults = KeycloakConfig(server_url="http://k").platforms
    for platform in ("slack", "teams", "console"):
        attribute = attributes[defaults[platform].attribute]
        # Only administrators may say which chat user someone is.
        assert attribute["permissions"] == {"view": ["admin"], "edit": ["admin"]}
        assert attribute["validations"]["pattern"]["pattern"]
    groups = {g["name"] for g in profile["groups"]}
    assert {a.get("group") for a in attributes.values()} - {None} <= groups


def test_example_users_carry_valid_chat_ids(realm: dict[str, Any], profile: dict[str, Any]) -> None:
    patterns = {a["name"]: a["validations"]["pattern"]["pattern"] for a in profile["attributes"]
                if "pattern" in a.get("validations", {})}  # fmt: skip
    people = [u for u in realm["users"] if "serviceAccountClientId" not in u]
    assert len(people) >= 2
    group_paths = {g["path"] for g in realm["groups"]}
    for user in people:
        assert user["enabled"] and user["emailVerified"] and user["email"]
        assert set(user["realmRoles"]) <= ROLES
        assert set(user.get("groups", [])) <= group_paths
        for name, values in user.get("attributes", {}).items():
            assert name in patterns
            assert all(re.fullmatch(patterns[name], v) for v in values), (user["username"], name)


def _stand_in_from(realm: dict[str, Any], server: KeycloakStandIn) -> None:
    server.realm_composites.update(
        {r["name"]: r.get("composites", {}).get("realm", []) for r in realm["roles"]["realm"]}
    )
    server.groups.update(
        {g["path"]: FakeGroup(g["path"], realm_roles=g["realmRoles"]) for g in realm["groups"]}
    )
    for user in realm["users"]:
        if "serviceAccountClientId" in user:
            continue
        server.add_user(
            FakeUser(
                username=user["username"],
                email=user["email"],
                first_name=user.get("firstName", ""),
                last_name=user.get("lastName", ""),
                attributes=user.get("attributes", {}),
                realm_roles=user["realmRoles"],
                groups=user.get("groups", []),
            )
        )


async def test_the_bot_resolves_the_example_users(
    realm: dict[str, Any], keycloak: KeycloakStandIn, make_resolver: ResolverFactory
) -> None:
    """The example realm, loaded into the stand-in, gives the roles its descriptions promise."""
    keycloak.users.clear()
    _stand_in_from(realm, keycloak)
    resolver = make_resolver(use_groups=True)
    users = _users(realm)

    team, alice_id = users["alice"]["attributes"]["slack_id"][0].split(":")
    alice = await resolver.resolve(ChatIdentity(platform="slack", tenant=team, user_id=alice_id))
    assert alice is not None and {"operator", "viewer", "group:ops"} <= alice.roles
    assert "approver" not in alice.roles

    bob_oid = users["bob"]["attributes"]["teams_aad_id"][0]
    bob = await resolver.resolve(ChatIdentity(platform="teams", tenant="t", user_id=bob_oid.upper()))
    assert bob is not None and {"approver", "viewer"} <= bob.roles and "operator" not in bob.roles

    (account,) = users["bob"]["attributes"]["console_user"]
    on_console = await resolver.resolve(ChatIdentity(platform="console", user_id=account))
    assert on_console is not None and on_console.subject == bob.subject


def test_platform_lookup_defaults_name_the_declared_attributes(profile: dict[str, Any]) -> None:
    declared = {a["name"] for a in profile["attributes"]}
    lookups: dict[str, PlatformLookup] = KeycloakConfig(server_url="http://k").platforms
    assert {lookups["slack"].attribute, lookups["teams"].attribute, lookups["console"].attribute} <= declared
    assert lookups["console"].attribute == KeycloakSettings().console_attribute
