"""Who a Slack user is: e-mail and display name from users.info, cached with a TTL."""

from __future__ import annotations

import json
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from pipeline.contracts import ChatIdentity
from pipeline.ports import Cache

log = logging.getLogger(__name__)
NEGATIVE_TTL_S = 60.0  # a failed lookup is retried after a minute, not at every message


class SlackPeople:
    """Completes a `ChatIdentity` with the e-mail Slack knows (needs users:read.email)."""

    def __init__(self, client: AsyncWebClient, cache: Cache, ttl_s: float = 3600.0) -> None:
        self._client = client
        self._cache = cache
        self._ttl_s = ttl_s

    async def complete(self, identity: ChatIdentity) -> ChatIdentity:
        """The identity with email/display name filled in when Slack has them; never raises."""
        if identity.email or not identity.user_id:
            return identity
        key = f"slack:user:{identity.tenant}:{identity.user_id}"
        try:
            cached = await self._cache.get(key)
        except Exception:
            log.warning("cache unavailable for slack user lookup", exc_info=True)
            cached = None
        if cached is None:
            profile, ttl = await self._lookup(identity.user_id)
            await self._remember(key, profile, ttl)
        else:
            profile = json.loads(cached)
        return identity.model_copy(
            update={
                "email": profile.get("email") or None,
                "display_name": identity.display_name or profile.get("name", ""),
            }
        )

    async def _lookup(self, user_id: str) -> tuple[dict[str, str], float]:
        try:
            answer = await self._client.users_info(user=user_id)
        except SlackApiError as err:
            log.warning("users.info failed for %s: %s", user_id, err.response.get("error"))
            return {}, NEGATIVE_TTL_S
        user = answer.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("name") or ""
        return {"email": profile.get("email") or "", "name": name}, self._ttl_s

    async def _remember(self, key: str, profile: dict[str, str], ttl_s: float) -> None:
        try:
            await self._cache.set(key, json.dumps(profile).encode(), ttl_s)
        except Exception:
            log.warning("cache unavailable for slack user lookup", exc_info=True)
