"""Stages A-C behind one port: the grammar/lexicon first, the LLM when they are unsure and to
confirm the changes they read from free text.

    text -> DeterministicUnderstander --(confident)--------------------> build_plan
                     |--(below threshold)--> fallback Understander (LLM) -> build_plan
                     |--(no / failing / overrunning fallback)-> clarify with what was understood
                     |--(a change, not the exact command form)--> Confirmer (LLM):
                            agrees -> build_plan, marked "confirmed"
                            its own reading -> clarify: both readings as choices, nothing planned
                            cannot answer -> build_plan, marked "unconfirmed" (approval still gates it)

Reads and exact commands (`tool.name targets key=value`) never cost an LLM call. The LLM's
answers go through the same `build_plan` as the grammar's: they are never trusted. When the
LLM is unreachable the planner says so once, keeps serving the grammar and uses the LLM again
as soon as a call succeeds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

from pipeline import messages
from pipeline.contracts import AssetRef, Confirmation, Plan, Principal, ToolCall, Understanding
from pipeline.conversation import Conversations, Turn
from pipeline.errors import InvalidModelOutput, InvalidRequest, LLMContextOverflow, LLMUnavailable
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


class Confirmer(Protocol):
    """Checks a change the grammar read from free text (the LLM), in one call.

    Raises LLMUnavailable, LLMContextOverflow or InvalidModelOutput when it cannot answer."""

    async def confirm(
        self,
        text: str,
        reading: Sequence[ToolCall],
        principal: Principal,
        assets: Sequence[AssetRef],
        tools: Sequence[ToolSpec],
    ) -> Confirmation: ...


class LanguageModel(Understander, Confirmer, Protocol):
    """Both duties of a configured LLM: understanding, and confirming change readings."""


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
        confirmer: Confirmer | None = None,
    ) -> None:
        self.registry = registry
        self.directory = directory
        self.fallback = fallback
        self.confirmer = confirmer
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
        elif self.confirmer is not None and self._free_text_change(understanding):
            understanding, notice = await self._confirm(
                self.confirmer, text, principal, assets, understanding
            )
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

    def _free_text_change(self, understanding: Understanding) -> bool:
        """A planned change (write or critical, not its check) that the exact command form did not give."""
        if understanding.outcome != "plan" or understanding.interpretation.entities.get("structured"):
            return False
        return any(self._changes(c) for c in understanding.calls)

    def _changes(self, call: ToolCall) -> bool:
        return call.tool in self.registry and self.registry.get(call.tool).changes and not call.check

    async def _confirm(
        self,
        confirmer: Confirmer,
        text: str,
        principal: Principal,
        assets: Sequence[AssetRef],
        grammar: Understanding,
    ) -> tuple[Understanding, str]:
        """One LLM call on the grammar's change reading; the change is never planned over its objection.
        When the LLM cannot answer, the reading stands, marked unconfirmed: approval still gates it."""
        offered = self._offered(principal)
        try:
            async with asyncio.timeout(self.fallback_timeout_s):
                verdict = await confirmer.confirm(text, grammar.calls, principal, assets, offered)
        except InvalidModelOutput:
            why = "its answer did not fit"
        except LLMContextOverflow as overflow:  # the model is up: this prompt is too long for it
            why = f"too long for it: {overflow}"
        except InvalidRequest as refused:  # longer than the model is given: the change is no less asked
            return _marked(grammar, "unconfirmed"), messages.unconfirmed(f"not sent: {refused}")
        except (LLMUnavailable, TimeoutError):
            why, self.llm_down = "unreachable", True
        else:
            self.llm_down = False
            used = {
                "llm_calls": grammar.llm_calls + verdict.llm_calls,
                "llm_tokens": grammar.llm_tokens + verdict.llm_tokens,
            }
            counted = grammar.model_copy(update=used)
            if verdict.agrees:
                return _marked(counted, "confirmed"), ""
            return self._disputed(counted, verdict.reading, assets), ""
        attempted = grammar.model_copy(update={"llm_calls": grammar.llm_calls + 1})
        return _marked(attempted, "unconfirmed"), messages.unconfirmed(why)

    def _disputed(
        self, grammar: Understanding, theirs: Understanding | None, assets: Sequence[AssetRef]
    ) -> Understanding:
        """The grammar's reading and the LLM's (when stage C accepts it) offered as choices."""
        mine = " then ".join(nlu_messages.structured(c) for c in grammar.calls)
        other = ""
        if theirs is not None and build_plan(theirs, self.registry, assets).outcome == "plan":
            other = " then ".join(nlu_messages.structured(c) for c in theirs.calls)
        if other == mine:  # "disagree", then the grammar's reading as its own: that is agreement
            return _marked(grammar, "confirmed")
        choices = tuple(c for c in (mine, other) if c)
        remark = theirs.message if theirs is not None and not other else ""  # why it sees no change
        disputed = _marked(grammar, "disputed")
        return disputed.model_copy(
            update={
                "outcome": "clarify",
                "calls": (),
                "suggestions": choices,
                "message": messages.disputed_reading(list(choices), remark),
            }
        )

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


def _marked(understanding: Understanding, confirmation: str) -> Understanding:
    interpretation = understanding.interpretation.model_copy(update={"confirmation": confirmation})
    return understanding.model_copy(update={"interpretation": interpretation})


def _from_llm(answer: Understanding) -> Understanding:
    interpretation = answer.interpretation.model_copy(update={"source": "llm"})
    return answer.model_copy(update={"interpretation": interpretation})
