"""The LLM path end to end through the planner: grammar first, LLMUnderstander when unsure,
stage C over whatever the model said. The model is the scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from adapters.llm import OpenAIClientConfig, OpenAICompatibleClient
from domains.catalog import build_registry
from pipeline.contracts import AssetFilter, AssetRef, Principal, Risk
from pipeline.llm_understander import LLMUnderstander
from pipeline.planner import HybridPlanner
from pipeline.selection import select
from tests.fakes.openai_server import ScriptedOpenAIServer

REGISTRY = build_registry()
ALICE = Principal(subject="alice", roles=frozenset({"operator"}))
VIEWER = Principal(subject="vic", roles=frozenset({"viewer"}))
ASSETS = (
    AssetRef(name="web-01", address="192.0.2.11", type="web_server", environment="production",
             location="frankfurt", services=("nginx",)),
    AssetRef(name="web-02", address="192.0.2.12", type="web_server", environment="staging",
             location="london", services=("nginx",)),
    AssetRef(name="db-01", address="192.0.2.31", type="db_server", environment="production",
             location="frankfurt", services=("postgresql",)),
)  # fmt: skip
UNSURE = "make db-01 faster"  # the grammar has no confident reading of this


class StaticDirectory:
    async def snapshot(self) -> Sequence[AssetRef]:
        return ASSETS

    async def query(self, selector: AssetFilter) -> Sequence[AssetRef]:
        return select(ASSETS, selector)


def permitted(principal: Principal) -> set[str]:
    if principal.has("operator"):
        return set(REGISTRY.names())
    return {s.name for s in REGISTRY if s.risk is Risk.READ}


def answer(*calls: dict[str, Any], outcome: str = "plan", message: str = "") -> dict[str, Any]:
    return {
        "intent": "query",
        "category": "automation",
        "confidence": 0.8,
        "outcome": outcome,
        "message": message,
        "calls": list(calls),
    }


@pytest.fixture
def planner(client: OpenAICompatibleClient) -> HybridPlanner:
    return HybridPlanner(
        REGISTRY, StaticDirectory(), fallback=LLMUnderstander(client), permitted_tools=permitted
    )


async def test_grammar_covered_request_makes_no_llm_call(server: ScriptedOpenAIServer, planner: Any) -> None:
    plan = await planner.plan("ping web-01", ALICE)

    assert plan.outcome == "plan" and plan.llm_calls == 0
    assert server.requests == []


async def test_unsure_request_is_planned_by_one_llm_call(server: ScriptedOpenAIServer, planner: Any) -> None:
    server.reply_json(
        answer(
            {"tool": "automation.system_info", "args": {"facts": ["cpu", "memory"]}, "targets": ["db-01"]}
        ),
        prompt_tokens=2300,
        completion_tokens=50,
    )

    plan = await planner.plan(UNSURE, ALICE)

    assert len(server.requests) == 1
    assert plan.outcome == "plan"
    (step,) = plan.steps
    assert (step.tool, step.target_names, step.args["facts"]) == (
        "automation.system_info",
        ["db-01"],
        ["cpu", "memory"],
    )
    assert (plan.llm_calls, plan.llm_tokens) == (1, 2350)
    assert plan.interpretation is not None and plan.interpretation.source == "llm"


async def test_selector_from_the_model_is_resolved_by_stage_c(
    server: ScriptedOpenAIServer, planner: Any
) -> None:
    server.reply_json(
        answer({"tool": "network.ping", "args": {}, "targets": [], "selector": {"types": ["web_server"]}})
    )

    plan = await planner.plan(UNSURE, ALICE)

    assert plan.steps[0].target_names == ["web-01", "web-02"]


@pytest.mark.parametrize(
    ("call", "says"),
    [
        ({"tool": "shell.rm_rf", "args": {}, "targets": ["db-01"]}, "tool called"),
        ({"tool": "network.ping", "args": {}, "targets": ["web-99"]}, "could not find web-99"),
        ({"tool": "network.ping", "args": {"count": 500}, "targets": ["db-01"]}, "cannot do that"),
        ({"tool": "automation.read_file", "args": {"path": "etc/passwd"}, "targets": ["db-01"]}, "absolute"),
    ],
    ids=["unknown-tool", "invented-host", "arg-out-of-range", "bad-path"],
)
async def test_stage_c_rejects_what_the_model_made_up(
    server: ScriptedOpenAIServer, planner: Any, call: dict[str, Any], says: str
) -> None:
    server.reply_json(answer(call))

    plan = await planner.plan(UNSURE, ALICE)

    assert plan.outcome == "clarify" and plan.steps == ()
    assert says in plan.message
    assert plan.llm_calls == 1


@pytest.mark.parametrize(
    "content",
    ['{"intent": "query", "calls": [', '{"intent": "query", "outcome": "plan"}'],
    ids=["invalid-json", "wrong-schema"],
)
async def test_malformed_output_makes_the_bot_ask_back(
    server: ScriptedOpenAIServer, planner: Any, content: str
) -> None:
    server.reply_text(content)

    plan = await planner.plan(UNSURE, ALICE)

    assert plan.outcome == "clarify" and plan.steps == ()
    assert "unreachable" not in plan.message  # a bad answer is not an outage
    assert planner.llm_down is False


async def test_outage_is_told_once_and_recovery_is_automatic(
    server: ScriptedOpenAIServer, planner: Any
) -> None:
    server.reply_status(503)
    server.reply_status(503)
    server.reply_json(answer({"tool": "network.ping", "args": {}, "targets": ["db-01"]}))

    first = await planner.plan(UNSURE, ALICE)
    second = await planner.plan(UNSURE, ALICE)
    grammar = await planner.plan("ping web-02", ALICE)
    recovered = await planner.plan(UNSURE, ALICE)

    assert first.outcome == "clarify" and "unreachable" in first.message
    assert second.outcome == "clarify" and "unreachable" not in second.message
    assert grammar.outcome == "plan" and grammar.steps[0].target_names == ["web-02"]
    assert recovered.outcome == "plan" and planner.llm_down is False


async def test_a_prompt_too_long_for_the_model_is_reported_as_such() -> None:
    """vLLM refuses it with HTTP 400 'maximum context length': not an outage, nothing retried."""
    async with ScriptedOpenAIServer(context_tokens=256) as server:
        config = OpenAIClientConfig(base_url=server.base_url, model="stand-in-model", timeout_s=2, retries=2)
        async with OpenAICompatibleClient(config) as client:
            planner = HybridPlanner(REGISTRY, StaticDirectory(), fallback=LLMUnderstander(client))
            plan = await planner.plan(UNSURE, ALICE)
        assert len(server.requests) == 1 and server.problems == []
    assert plan.outcome == "clarify" and plan.steps == ()
    assert "too long for the language model (the model takes 256 tokens, this request needed" in plan.message
    assert "unreachable" not in plan.message and planner.llm_down is False


async def test_viewer_is_offered_read_tools_only(server: ScriptedOpenAIServer, planner: Any) -> None:
    server.reply_json(answer(outcome="no_action", message="I can't change anything for you."))

    await planner.plan(UNSURE, VIEWER)

    schema = server.requests[0].schema
    assert schema is not None
    variants = schema["anyOf"][0]["properties"]["calls"]["items"]["anyOf"]
    offered = {v["properties"]["tool"]["enum"][0] for v in variants}
    assert offered == {s.name for s in REGISTRY if s.risk is Risk.READ}
    assert "automation.reboot" not in server.requests[0].messages[0]["content"]
