"""Admission: how often each person, channel (or API token) may send requests, for every door.

    admission = Admission(limiter, {"person": Limit(30, 60), "channel": Limit(120, 60)})
    await admission.admit(channel="slack:T1:C1")      # before identity is resolved
    await admission.admit(person=principal.subject)   # after: one budget across platforms
    await admission.admit(token=token_id)             # a door with its own scope (HTTP API)

Each call counts one request in every scope it names that has a limit, in a sliding window
(`pipeline.ports.RateLimiter`: in-process, or Redis shared by all replicas). Over a limit it
raises `RateLimited`, which the kernel answers with one clear sentence; refused requests are
not counted, so waiting is enough. A limiter that fails (Redis down) admits and logs: the
bot keeps serving rather than going silent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.errors import RateLimited
from pipeline.ports import RateLimiter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `count` requests in any `per_s` seconds."""

    count: int
    per_s: float

    def describe(self, scope: str) -> str:
        return f"at most {self.count} requests per {scope} every {self.per_s:g} s"


class Admission:
    """Rate limits per scope in front of the pipeline."""

    def __init__(self, limiter: RateLimiter, limits: Mapping[str, Limit]) -> None:
        self.limiter = limiter
        self.limits = {scope: limit for scope, limit in limits.items() if limit.count > 0}

    async def admit(self, **keys: str) -> None:
        """Count one request for each `scope=key`; RateLimited when any scope is over its limit."""
        for scope, key in keys.items():
            limit = self.limits.get(scope)
            if limit is None or not key:
                continue
            try:
                allowed = await self.limiter.allow(f"{scope}:{key}", limit.count, limit.per_s)
            except Exception:
                log.warning("rate limiter unavailable; admitting %s %s", scope, key[:64], exc_info=True)
                continue
            if not allowed:
                log.info("rate limited: %s %s (%s)", scope, key[:64], limit.describe(scope))
                raise RateLimited(limit.describe(scope), scope=scope)
