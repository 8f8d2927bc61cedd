"""Stages A-C behind one port: the grammar/lexicon first, the LLM only when they are unsure.

    text -> DeterministicUnderstander --(confident)--------------------> build_plan
                     |--(below threshold)--> fallback Understander (LLM) -> build_plan
                     |--(no / failing / overrunning fallback)-> clarify with what was understood

The LLM's answer goes through the same `build_plan` as the grammar's: it is never trusted.
When the LLM is unreachable the planner says so once, keeps serving the grammar and
uses the LLM again as soon as a call succeeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from pipeline.contracts import AssetRef, Plan, Principal, ToolCall, Understanding
from pipeline.conversation import Conversations, Turn
from pipeline.errors import InvalidModelOutput, LLMContextOverflow, LLMUnavailable
from pipeline.nlu import DeterministicUnderstander
from pipeline.nlu import messages as nlu_messages
from pipeline.ports import AssetDirectory
from pipeline.registry import ToolRegistry, ToolSpec
from pipeline.stages.plan import build_plan


class Understander(Protocol):
    """Stages A+B by some other means (the LLM). Raises LLMUnavailable when it cannot answer."""

    async def understand(
        self, text: str, principal: Principal, assets: Sequence[AssetRef], tools: Sequence[ToolSpec]
    ) -> Understanding: ...


class HybridPlanner:
    """`pipeline.ports.Planner`: deterministic first, fallback below `threshold`, then stage C."""

    def __init__(
        self,
        registry: ToolRegistry,
        directory: AssetDirectory,
        *,
        fallback: Understander | None = None,
        threshold: float = 0.6,
        permitted_tools: Callable[[Principal], set[str]] | None = None,
        conversations: Conversations | None = None,
        fallback_timeout_s: float = 45.0,
    ) -> None:
        self.registry = registry
        self.directory = directory
        self.fallback = fallback
        self.threshold = threshold
        self.permitted_tools = permitted_tools
        self.conversations = conversations
        self.fallback_timeout_s = fallback_timeout_s  # then the grammar's answer stands
        self.grammar = DeterministicUnderstander(registry)
        self._catalog_version = registry.version
        self.llm_down = False

    async def plan(self, text: str, principal: Principal, conversation: str = "") -> Plan:
        """Plan `text`; `conversation` (a thread or DM) keys what follow-ups refer back to."""
        key = f"{conversation}|{principal.subject}" if conversation and self.conversations else ""
        previous = await self.conversations.recall(key) if key and self.conversations else None
        plan, understood = await self._plan(text, principal, previous)
        if key and self.conversations:
            await self.conversations.remember(key, Turn.of(text, plan, understood))
        return plan

    async def _plan(
        self, text: str, principal: Principal, previous: Turn | None
    ) -> tuple[Plan, tuple[ToolCall, ...]]:
        assets = await self.directory.snapshot()
        understanding = self._current_grammar().understand(text, assets, previous)
        notice = ""
        if self._unsure(understanding):
            understanding, notice = await self._ask_fallback(text, principal, assets, understanding)
        plan = build_plan(understanding, self.registry, assets)
        if notice:
            plan = plan.model_copy(update={"message": f"{notice} {plan.message}".strip()})
        return plan, understanding.calls

    def _current_grammar(self) -> DeterministicUnderstander:
        """The understanding of the catalog as it is now: edited definitions count from the next request."""
        self.registry.refresh()
        if self.registry.version != self._catalog_version:
            self._catalog_version = self.registry.version
            self.grammar = DeterministicUnderstander(self.registry)
        return self.grammar

    def _unsure(self, understanding: Understanding) -> bool:
        if understanding.outcome == "clarify" and understanding.interpretation.category == "clarify":
            return False  # an unknown host or a missing argument: the LLM must not guess either
        if understanding.outcome == "no_action" and understanding.interpretation.confidence >= 1.0:
            return False  # help, greetings
        return understanding.interpretation.confidence < self.threshold

    async def _ask_fallback(
        self, text: str, principal: Principal, assets: Sequence[AssetRef], grammar: Understanding
    ) -> tuple[Understanding, str]:
        if self.fallback is None:
            return _unsure_answer(grammar), ""
        attempted = grammar.model_copy(update={"llm_calls": grammar.llm_calls + 1})
        try:
            async with asyncio.timeout(self.fallback_timeout_s):
                answer = await self.fallback.understand(text, principal, assets, self._offered(principal))
        except InvalidModelOutput:
            return _unsure_answer(attempted), ""
        except LLMContextOverflow as overflow:  # the model is up: this prompt is too long for it
            return _unsure_answer(attempted), nlu_messages.llm_overflow(str(overflow))
        except (LLMUnavailable, TimeoutError):  # one LLM call, retries included, overran its limit
            notice = "" if self.llm_down else nlu_messages.LLM_DOWN
            self.llm_down = True
            return _unsure_answer(attempted), notice
        self.llm_down = False
        return _from_llm(answer), ""

    def _offered(self, principal: Principal) -> list[ToolSpec]:
        specs = list(self.registry)
        if self.permitted_tools is None:
            return specs
        allowed = self.permitted_tools(principal)
        return [s for s in specs if s.name in allowed]


def _unsure_answer(grammar: Understanding) -> Understanding:
    """No LLM to ask: out-of-scope stays no_action; a weak guess becomes a question."""
    if grammar.outcome != "plan":
        return grammar
    best = " then ".join(nlu_messages.structured(c) for c in grammar.calls)
    others = [str(a) for a in grammar.interpretation.entities.get("alternatives", []) if a != best]
    choices = tuple(dict.fromkeys([best, *others]))[:3]
    message = nlu_messages.reading_choices(list(choices))
    return grammar.model_copy(
        update={"outcome": "clarify", "message": message, "calls": (), "suggestions": choices}
    )


def _from_llm(answer: Understanding) -> Understanding:
    interpretation = answer.interpretation.model_copy(update={"source": "llm"})
    return answer.model_copy(update={"interpretation": interpretation})
