"""Keycloak Admin API queries: find the user behind a chat identity and collect their roles.

Thin translation over python-keycloak's async (`a_`) methods; errors propagate as
python-keycloak raises them and are translated by `KeycloakResolver`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from adapters.keycloak.config import KeycloakConfig, LookupMethod, PlatformLookup
from pipeline.contracts import ChatIdentity

log = logging.getLogger(__name__)

User = dict[str, Any]


def connect(config: KeycloakConfig) -> KeycloakAdmin:
    """A KeycloakAdmin on the bot's service account (client credentials); no network yet."""
    connection = KeycloakOpenIDConnection(
        server_url=config.server_url,
        realm_name=config.realm,
        client_id=config.client_id,
        client_secret_key=config.client_secret.get_secret_value(),
        grant_type="client_credentials",
        verify=config.verify_tls,
        timeout=max(1, math.ceil(config.timeout_s)),
    )
    return KeycloakAdmin(connection=connection)


class KeycloakDirectory:
    """Looks people up in one realm through the service account."""

    def __init__(self, config: KeycloakConfig, admin: KeycloakAdmin) -> None:
        self.config = config
        self.admin = admin
        self._client_uuid: str | None = None

    async def find_user(self, identity: ChatIdentity) -> User | None:
        """The one enabled user behind `identity`, trying each lookup in the configured order.

        A disabled user ends the search with None; an ambiguous lookup (several users) is
        skipped with a warning.
        """
        lookup = self.config.platforms.get(identity.platform, PlatformLookup())
        for method in self.config.lookup_order:
            users = await self._search(method, lookup, identity)
            if users is None:
                continue
            if len(users) > 1:
                log.warning(
                    "keycloak %s lookup for %s:%s matched %d users; skipped",
                    method,
                    identity.platform,
                    identity.user_id,
                    len(users),
                )
                continue
            if users:
                user = users[0]
                return user if user.get("enabled", True) else None
        return None

    async def _search(
        self, method: LookupMethod, lookup: PlatformLookup, identity: ChatIdentity
    ) -> list[User] | None:
        """Matching users, or None when this method does not apply to the identity."""
        if method == "attribute":
            return await self._by_attribute(lookup, identity)
        if method == "idp_link":
            return await self._by_idp_link(lookup, identity)
        return await self._by_email(identity)

    async def _by_attribute(self, lookup: PlatformLookup, identity: ChatIdentity) -> list[User] | None:
        value = _attribute_value(lookup, identity)
        if not lookup.attribute or value is None:
            return None
        users = await self.admin.a_get_users({"q": f"{lookup.attribute}:{value}"})
        # Keycloak versions differ in how exactly `q` matches; keep only exact values.
        return [u for u in users if _has_attribute(u, lookup.attribute, value)]

    async def _by_idp_link(self, lookup: PlatformLookup, identity: ChatIdentity) -> list[User] | None:
        if not lookup.idp_alias or not identity.user_id:
            return None
        idp_user = identity.user_id.lower() if lookup.lowercase else identity.user_id
        return list(await self.admin.a_get_users({"idpAlias": lookup.idp_alias, "idpUserId": idp_user}))

    async def _by_email(self, identity: ChatIdentity) -> list[User] | None:
        email = (identity.email or "").strip().lower()
        if "@" not in email:
            return None
        users = await self.admin.a_get_users({"email": email, "exact": True})
        verified = self.config.require_verified_email
        return [
            u
            for u in users
            if str(u.get("email", "")).lower() == email and (u.get("emailVerified", False) or not verified)
        ]

    async def roles_of(self, user: User) -> frozenset[str]:
        """Effective realm roles, plus client roles and `group:<name>` / mapped group roles if enabled."""
        user_id = str(user["id"])
        parts: list[asyncio.Future[set[str]]] = []
        async with asyncio.TaskGroup() as tasks:
            parts.append(tasks.create_task(self._realm_roles(user_id)))
            if self.config.use_client_roles:
                parts.append(tasks.create_task(self._client_roles(user_id)))
            if self.config.use_groups:
                parts.append(tasks.create_task(self._group_roles(user_id)))
        return frozenset().union(*(p.result() for p in parts))

    async def _realm_roles(self, user_id: str) -> set[str]:
        roles = await self.admin.a_get_composite_realm_roles_of_user(user_id)
        return {str(r["name"]) for r in roles}

    async def _client_roles(self, user_id: str) -> set[str]:
        if self._client_uuid is None:
            self._client_uuid = await self.admin.a_get_client_id(self.config.client_roles_of)
            if self._client_uuid is None:
                log.warning("keycloak client %r not found; no client roles", self.config.client_roles_of)
                return set()
        roles = await self.admin.a_get_composite_client_roles_of_user(user_id, self._client_uuid)
        return {str(r["name"]) for r in roles}

    async def _group_roles(self, user_id: str) -> set[str]:
        roles: set[str] = set()
        for group in await self.admin.a_get_user_groups(user_id):
            name, path = str(group.get("name", "")), str(group.get("path", ""))
            roles.add(f"group:{name}")
            roles.update(self.config.group_roles.get(name, ()))
            roles.update(self.config.group_roles.get(path, ()))
        return roles


def display_name(user: User) -> str:
    full = " ".join(str(user.get(k) or "") for k in ("firstName", "lastName")).strip()
    return full or str(user.get("username", ""))


def _attribute_value(lookup: PlatformLookup, identity: ChatIdentity) -> str | None:
    """The attribute value for this identity, or None when a part it needs is empty."""
    parts = {"tenant": identity.tenant.strip(), "user_id": identity.user_id.strip()}
    needed = [k for k in parts if "{" + k + "}" in lookup.attribute_value]
    if any(not parts[k] for k in needed) or any(c.isspace() for c in "".join(parts.values())):
        return None
    value = lookup.attribute_value.format(**parts)
    return value.lower() if lookup.lowercase else value


def _has_attribute(user: User, name: str, value: str) -> bool:
    attributes = user.get("attributes")
    if not isinstance(attributes, dict):
        return True  # a brief representation: trust the server's match
    values = attributes.get(name) or []
    return value in (values if isinstance(values, list) else [values])
