"""What the adapter remembers between turns, in the shared Cache (Redis across replicas):
each request's conversation reference (to answer it proactively later: an expired approval,
a run that finished elsewhere) and each approval card with its activity id (to update it in
place, or put it back with a note after a refused click). Best effort: a cache outage
loses only these conveniences, never a decision (those live in the execution store)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import ConversationReference

from adapters.teams.render import Card
from pipeline.ports import Cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeptCard:
    content: Card
    activity_id: str | None


class ConversationMemory:
    """Conversation references by request (message id) and approval cards by execution id."""

    def __init__(self, cache: Cache, ttl_s: float) -> None:
        self._cache = cache
        self._ttl_s = ttl_s

    async def keep_reference(self, message_id: str, reference: ConversationReference) -> None:
        await self._set(f"teams:ref:{message_id}", reference.serialize())

    async def reference(self, message_id: str) -> ConversationReference | None:
        data = await self._get(f"teams:ref:{message_id}")
        return ConversationReference().deserialize(data) if isinstance(data, dict) else None

    async def keep_card(self, execution_id: str, content: Card, activity_id: str | None) -> None:
        await self._set(f"teams:card:{execution_id}", {"content": content, "activity_id": activity_id})

    async def card(self, execution_id: str) -> KeptCard | None:
        data = await self._get(f"teams:card:{execution_id}")
        if not isinstance(data, dict) or not isinstance(data.get("content"), dict):
            return None
        return KeptCard(data["content"], data.get("activity_id"))

    async def _set(self, key: str, value: Any) -> None:
        try:
            await self._cache.set(key, json.dumps(value).encode(), self._ttl_s)
        except Exception:
            log.warning("cache unavailable; %s not kept", key.split(":")[1], exc_info=True)

    async def _get(self, key: str) -> Any:
        try:
            raw = await self._cache.get(key)
            return json.loads(raw) if raw else None
        except Exception:
            log.warning("cache unavailable; %s not found", key.split(":")[1], exc_info=True)
            return None
