"""HybridPlanner: grammar first, the fallback only below the threshold, and graceful LLM outages."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domains.assets.directory import InMemoryAssetDirectory
from domains.catalog import build_registry
from pipeline.contracts import AssetRef, Intent, Interpretation, Principal, ToolCall, Understanding
from pipeline.errors import InvalidModelOutput, LLMUnavailable
from pipeline.planner import HybridPlanner
from pipeline.registry import ToolSpec

ASSETS = (
    AssetRef(name="web-01", address="192.0.2.11", type="web_server", environment="production"),
    AssetRef(name="db-01", address="192.0.2.31", type="db_server", environment="production"),
)
OPERATOR = Principal(subject="t-op", roles=frozenset({"operator"}))
VAGUE = "take a good look at web-01"  # no tool cue: below the threshold


class ScriptedUnderstander:
    """A stand-in for the LLM understander: answers from a script, or raises."""

    def __init__(self, answer: Understanding | None = None, error: Exception | None = None) -> None:
        self.answer, self.error = answer, error
        self.calls: list[tuple[str, list[str]]] = []

    async def understand(
        self, text: str, principal: Principal, assets: Sequence[AssetRef], tools: Sequence[ToolSpec]
    ) -> Understanding:
        self.calls.append((text, [t.name for t in tools]))
        if self.error is not None:
            raise self.error
        assert self.answer is not None
        return self.answer


def llm_answer(tool: str, *targets: str) -> Understanding:
    return Understanding(
        interpretation=Interpretation(intent=Intent.QUERY, confidence=0.9, source="llm"),
        calls=(ToolCall(tool=tool, targets=targets),),
        llm_calls=1,
        llm_tokens=420,
    )


def planner(fallback: ScriptedUnderstander | None, **kwargs: object) -> HybridPlanner:
    return HybridPlanner(build_registry(), InMemoryAssetDirectory(ASSETS), fallback=fallback, **kwargs)  # type: ignore[arg-type]


async def test_grammar_answers_without_calling_the_llm() -> None:
    llm = ScriptedUnderstander(llm_answer("network.ping", "db-01"))
    plan = await planner(llm).plan("ping web-01", OPERATOR)
    assert plan.steps[0].target_names == ["web-01"] and llm.calls == []
    assert plan.llm_calls == 0 and plan.interpretation is not None
    assert plan.interpretation.source == "grammar"


async def test_below_threshold_the_fallback_answers_and_is_validated() -> None:
    llm = ScriptedUnderstander(llm_answer("automation.system_info", "web-01"))
    plan = await planner(llm).plan(VAGUE, OPERATOR)
    assert llm.calls and plan.steps[0].tool == "automation.system_info"
    assert (plan.llm_calls, plan.llm_tokens) == (1, 420)
    assert plan.interpretation is not None and plan.interpretation.source == "llm"


async def test_fallback_output_goes_through_stage_c() -> None:
    invented = await planner(ScriptedUnderstander(llm_answer("network.ping", "web-77"))).plan(VAGUE, OPERATOR)
    assert invented.outcome == "clarify" and "web-77" in invented.message
    unknown_tool = await planner(ScriptedUnderstander(llm_answer("shell.exec", "web-01"))).plan(
        VAGUE, OPERATOR
    )
    assert unknown_tool.outcome == "clarify"


async def test_only_permitted_tools_are_offered() -> None:
    llm = ScriptedUnderstander(llm_answer("network.ping", "web-01"))
    await planner(llm, permitted_tools=lambda p: {"network.ping"}).plan(VAGUE, OPERATOR)
    assert llm.calls[0][1] == ["network.ping"]


async def test_without_fallback_a_weak_guess_becomes_a_question() -> None:
    plan = await planner(None).plan(VAGUE, OPERATOR)
    assert plan.outcome == "clarify"
    assert "web-01" in plan.message and "`" in plan.message  # says what it understood + the structured form


async def test_llm_outage_is_announced_once_and_recovers() -> None:
    llm = ScriptedUnderstander(error=LLMUnavailable("connection refused"))
    hybrid = planner(llm)
    first = await hybrid.plan(VAGUE, OPERATOR)
    second = await hybrid.plan(VAGUE, OPERATOR)
    assert "unreachable" in first.message and "unreachable" not in second.message
    assert (await hybrid.plan("ping db-01", OPERATOR)).steps[0].target_names == ["db-01"]
    llm.error, llm.answer = None, llm_answer("network.ping", "web-01")
    recovered = await hybrid.plan(VAGUE, OPERATOR)
    assert recovered.steps[0].tool == "network.ping" and not hybrid.llm_down


@pytest.mark.parametrize("error", [InvalidModelOutput("not json")])
async def test_malformed_model_output_asks_back_without_outage_notice(error: Exception) -> None:
    plan = await planner(ScriptedUnderstander(error=error)).plan(VAGUE, OPERATOR)
    assert plan.outcome == "clarify" and "unreachable" not in plan.message


async def test_unknown_hosts_are_not_sent_to_the_llm() -> None:
    llm = ScriptedUnderstander(llm_answer("network.ping", "web-01"))
    plan = await planner(llm).plan("ping web-09", OPERATOR)
    assert plan.outcome == "clarify" and llm.calls == []


async def test_the_offered_structured_form_plans_what_was_guessed() -> None:
    hybrid = planner(None)
    vague = "is db-01 up after the widget frobnication and stuff like whatever"
    unsure = await hybrid.plan(vague, OPERATOR)
    assert unsure.outcome == "clarify"
    offered = unsure.message.split("`")[1]
    again = await hybrid.plan(offered, OPERATOR)
    assert again.outcome == "plan" and again.interpretation is not None
    assert again.interpretation.source == "grammar"
    assert [(s.tool, s.target_names) for s in again.steps] == [("network.ping", ["db-01"])]


async def test_failed_llm_attempts_are_counted() -> None:
    plan = await planner(ScriptedUnderstander(error=LLMUnavailable("timeout"))).plan(VAGUE, OPERATOR)
    assert plan.llm_calls == 1 and plan.outcome == "clarify"
