"""Who a Teams user is: e-mail, UPN and name from the member lookup, cached with a TTL."""

from __future__ import annotations

import asyncio
import json
import logging

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from pipeline.contracts import ChatIdentity
from pipeline.ports import Cache

log = logging.getLogger(__name__)
NEGATIVE_TTL_S = 60.0  # a failed lookup is retried after a minute, not at every message
LOOKUP_TIMEOUT_S = 5.0


class TeamsPeople:
    """Completes a `ChatIdentity` with the e-mail (or UPN) Teams knows for the sender."""

    def __init__(self, cache: Cache, ttl_s: float = 3600.0) -> None:
        self._cache = cache
        self._ttl_s = ttl_s

    async def complete(self, context: TurnContext, identity: ChatIdentity) -> ChatIdentity:
        """The identity with email/display name filled in when Teams has them; never raises."""
        sender = context.activity.from_property
        if identity.email or sender is None or not sender.id:
            return identity
        key = f"teams:member:{identity.tenant}:{identity.user_id}"
        cached = await self._get(key)
        if cached is None:
            profile, ttl = await self._lookup(context, str(sender.id))
            await self._remember(key, profile, ttl)
        else:
            profile = json.loads(cached)
        return identity.model_copy(
            update={
                "email": profile.get("email") or None,
                "upn": profile.get("upn") or None,
                "display_name": identity.display_name or profile.get("name", ""),
            }
        )

    async def _lookup(self, context: TurnContext, member_id: str) -> tuple[dict[str, str], float]:
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_S):
                member = await TeamsInfo.get_member(context, member_id)
        except Exception as err:  # the request goes on without an e-mail
            log.warning("teams member lookup failed: %s", type(err).__name__)
            return {}, NEGATIVE_TTL_S
        email = member.email or member.user_principal_name or ""
        upn = str(member.user_principal_name or "").lower()
        return {"email": str(email).lower(), "upn": upn, "name": str(member.name or "")}, self._ttl_s

    async def _get(self, key: str) -> bytes | None:
        try:
            return await self._cache.get(key)
        except Exception:
            log.warning("cache unavailable for teams member lookup", exc_info=True)
            return None

    async def _remember(self, key: str, profile: dict[str, str], ttl_s: float) -> None:
        try:
            await self._cache.set(key, json.dumps(profile).encode(), ttl_s)
        except Exception:
            log.warning("cache unavailable for teams member lookup", exc_info=True)
