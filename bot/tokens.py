"""`opsconductor tokens ...`: personal API tokens for scripts and CI (shown once, stored hashed).

A token acts as one person (the principal subject: the roles file's `name`, or the Keycloak
user) with the roles it was created with. When the roles file lists the person, a token gets
their roles by default and never more than they have.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.settings import Settings
from db.api_tokens import SqlApiTokens, TokenRecord
from db.engine import session_factory
from db.types import utcnow

KNOWN_ROLES = ("viewer", "operator", "approver", "admin")
COMPOSITES = {"operator": ("viewer",), "admin": ("operator", "viewer")}  # as the shipped roles file
DURATION = re.compile(r"(\d+)\s*([mhdw])")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """'30d', '12h', '90m', '2w' from now; ValueError otherwise."""
    match = DURATION.fullmatch(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--expires {text!r}: give a duration such as 30d, 12h, 90m or 2w")
    return (now or utcnow()) + timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def token_roles(person: str, asked: Sequence[str], listed: frozenset[str] | None) -> list[str]:
    """The roles a new token gets: asked (with composites) within what the roles file lists."""
    unknown = sorted(set(asked) - set(KNOWN_ROLES))
    if unknown:
        raise ValueError(f"unknown role {', '.join(unknown)} (known: {', '.join(KNOWN_ROLES)})")
    if not asked:
        if listed is None:
            raise ValueError(f"{person} is not in the roles file: name the token's roles with --role")
        return sorted(listed)
    roles = set(asked) | {implied for role in asked for implied in COMPOSITES.get(role, ())}
    if listed is not None and not roles <= listed:
        extra = ", ".join(sorted(roles - listed))
        raise ValueError(f"{person} does not have the role {extra} in the roles file")
    return sorted(roles)


async def create_token(
    settings: Settings, person: str, roles: Sequence[str], expires: str | None, label: str
) -> tuple[TokenRecord, str]:
    from bot.app import prepare_database, static_resolver

    listed = None
    if not settings.keycloak.server_url:
        found = static_resolver(settings).table.people.get(person)
        listed = found.roles if found is not None else None
        display = found.display_name if found is not None else person
    else:
        display = person
    granted = token_roles(person, roles, listed)
    expires_at = parse_expiry(expires) if expires else None
    engine = await prepare_database(settings)
    try:
        return await SqlApiTokens(session_factory(engine)).create(
            person, granted, expires_at=expires_at, label=label, display_name=display
        )
    finally:
        await engine.dispose()


async def list_tokens(settings: Settings, person: str | None) -> list[TokenRecord]:
    from bot.app import prepare_database

    engine = await prepare_database(settings)
    try:
        return await SqlApiTokens(session_factory(engine)).list(person)
    finally:
        await engine.dispose()


async def revoke_token(settings: Settings, token_id: str) -> bool:
    from bot.app import prepare_database

    engine = await prepare_database(settings)
    try:
        return await SqlApiTokens(session_factory(engine)).revoke(token_id.removeprefix("oct_")[:32])
    finally:
        await engine.dispose()


def describe(record: TokenRecord, now: datetime | None = None) -> str:
    now = now or utcnow()
    state = "revoked" if record.revoked_at else ("expired" if not record.valid_at(now) else "active")
    expires = record.expires_at.strftime("%Y-%m-%d %H:%M UTC") if record.expires_at else "never"
    used = record.last_used_at.strftime("%Y-%m-%d %H:%M UTC") if record.last_used_at else "never"
    label = f"  {record.label}" if record.label else ""
    return (
        f"{record.id}  {record.person}  [{','.join(record.roles)}]  {state}  "
        f"expires {expires}  last used {used}{label}"
    )
