"""Conversation memory: what one person's last request in a thread or DM resolved to.

Follow-ups refer back to it: "and on web-02?", "restart it", "same for staging", "do it" after a
suggestion, "the second one" after a choice, "the london one" after "which one do you mean?".
Kept per conversation and person in the cache port (Redis across replicas, in-process on the
embedded default), expiring after `ttl_s`; nothing is executed from memory without planning
(and policy, and approval) again.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from pipeline.contracts import Frozen, Plan, ToolCall
from pipeline.ports import Cache

DEFAULT_TTL_S = 1800.0


class Turn(Frozen):
    """The last request of a conversation, as planned."""

    text: str = ""
    outcome: str = "plan"
    calls: tuple[ToolCall, ...] = ()  # its steps, targets resolved to names
    suggestions: tuple[str, ...] = ()  # requests it offered (one click, or 'do it', or a number)

    @classmethod
    def of(cls, text: str, plan: Plan, understood: Sequence[ToolCall] = ()) -> Turn:
        """The turn a plan makes; `understood`: its calls before resolution (their selectors)."""
        selectors = [c.selector for c in understood] if len(understood) == len(plan.steps) else []
        calls = tuple(
            ToolCall(
                tool=step.tool,
                args=step.args,
                targets=tuple(step.target_names),
                selector=selectors[i] if selectors else None,
            )
            for i, step in enumerate(plan.steps)
        )
        return cls(text=text, outcome=plan.outcome, calls=calls, suggestions=plan.suggestions)


class Conversations:
    """Turns by conversation key, in the cache (JSON, expiring)."""

    def __init__(self, cache: Cache, ttl_s: float = DEFAULT_TTL_S, prefix: str = "conversation:") -> None:
        self.cache = cache
        self.ttl_s = ttl_s
        self.prefix = prefix

    async def recall(self, key: str) -> Turn | None:
        raw = await self.cache.get(self.prefix + key)
        if raw is None:
            return None
        try:
            return Turn.model_validate_json(raw)
        except ValidationError:
            return None  # written by another version: forget it rather than guess

    async def remember(self, key: str, turn: Turn) -> None:
        await self.cache.set(self.prefix + key, turn.model_dump_json().encode(), self.ttl_s)
