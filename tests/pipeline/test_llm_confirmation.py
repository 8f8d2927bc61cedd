"""A change the grammar read from free text is confirmed by the LLM before it is planned: one
structured call (the request and the grammar's reading; the answer agrees or gives its own
reading). Reads and exact commands cost no call. The LLM is the scripted OpenAI-compatible
server (a vLLM stand-in) behind the real client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from adapters.cache.inprocess import InProcessCache
from adapters.llm import OpenAIClientConfig, OpenAICompatibleClient
from adapters.rendering import plan_notes
from bot.evaluation import evaluate
from domains.assets.directory import InMemoryAssetDirectory
from domains.catalog import build_registry
from pipeline.contracts import (
    ApprovalPrompt,
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    Principal,
    ToolCall,
)
from pipeline.conversation import Conversations
from pipeline.evaluation import Case
from pipeline.kernel import Kernel
from pipeline.llm_understander import CONFIRM_SCHEMA_NAME, SCHEMA_NAME, LLMUnderstander
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity
from tests.fakes.openai_server import ScriptedOpenAIServer

REGISTRY = build_registry()
POLICY = Policy.default(REGISTRY)
ALICE = Principal(subject="alice", roles=frozenset({"operator"}))
ASSETS = (
    AssetRef(name="web-01", address="192.0.2.11", type="web_server", environment="production",
             location="frankfurt", services=("nginx",)),
    AssetRef(name="web-02", address="192.0.2.12", type="web_server", environment="staging",
             location="london", services=("nginx",)),
    AssetRef(name="db-01", address="192.0.2.31", type="db_server", environment="production",
             location="frankfurt", services=("postgresql",)),
)  # fmt: skip
CHANGE = "restart nginx on web-01"  # free text the grammar reads confidently as a change
RESTART = "automation.service_control web-01 service=nginx action=restart"
REBOOT = "automation.reboot web-02"  # the exact command form, a critical change
STATUS_CALL = {"tool": "automation.service_status", "args": {"service": "nginx"}, "targets": ["web-01"]}


def reading(*calls: dict[str, Any], outcome: str = "plan", message: str = "") -> dict[str, Any]:
    return {
        "intent": "query" if calls else "chat",
        "category": "automation" if calls else "other",
        "confidence": 0.9,
        "outcome": outcome,
        "message": message,
        "calls": list(calls),
    }


@pytest.fixture
def llm(client: OpenAICompatibleClient) -> LLMUnderstander:
    return LLMUnderstander(client)


def planner(llm: LLMUnderstander, **kwargs: Any) -> HybridPlanner:
    return HybridPlanner(
        REGISTRY,
        InMemoryAssetDirectory(ASSETS),
        fallback=llm,
        confirmer=llm,
        permitted_tools=POLICY.permitted_tools,
        conversations=Conversations(InProcessCache()),
        **kwargs,
    )


def steps(plan: Plan) -> list[tuple[str, list[str]]]:
    return [(s.tool, s.target_names) for s in plan.steps]


async def test_an_agreed_change_is_planned_and_marked_confirmed(
    server: ScriptedOpenAIServer, llm: LLMUnderstander
) -> None:
    server.reply_json({"verdict": "agree"}, prompt_tokens=900, completion_tokens=6)

    plan = POLICY.apply(await planner(llm).plan(CHANGE, ALICE), ALICE)

    assert steps(plan) == [("automation.service_control", ["web-01"])]
    assert plan.requires_approval  # confirmed or not, a change still waits for its approver
    assert plan.interpretation is not None and plan.interpretation.confirmation == "confirmed"
    assert (plan.llm_calls, plan.llm_tokens) == (1, 906)
    (request,) = server.requests
    assert request.body["response_format"]["json_schema"]["name"] == CONFIRM_SCHEMA_NAME
    assert request.body["response_format"]["json_schema"]["strict"] is True
    assert request.schema is not None and {"agree", "disagree"} == {
        v["properties"]["verdict"]["enum"][0] for v in request.schema["anyOf"]
    }
    user = request.messages[1]["content"]
    assert CHANGE in user and '"tool": "automation.service_control"' in user and '"web-01"' in user


async def test_the_confirmation_shares_the_understanding_prefix(
    server: ScriptedOpenAIServer, llm: LLMUnderstander
) -> None:
    """The same system message as an understanding call: the server's prefix cache serves both."""
    server.reply_json({"verdict": "agree"})
    hybrid = planner(llm)
    await hybrid.plan(CHANGE, ALICE)
    offered = [s for s in REGISTRY if s.name in POLICY.permitted_tools(ALICE)]
    understanding, _ = llm.prompt(CHANGE, ASSETS, offered)
    assert server.requests[0].messages[0] == understanding[0]


async def test_a_disagreement_asks_back_with_both_readings(
    server: ScriptedOpenAIServer, llm: LLMUnderstander
) -> None:
    server.reply_json({"verdict": "disagree", "reading": reading(STATUS_CALL)})
    hybrid = planner(llm)

    plan = await hybrid.plan(CHANGE, ALICE, "thread-1")

    assert plan.outcome == "clarify" and plan.steps == ()
    assert plan.suggestions == (RESTART, "automation.service_status web-01 service=nginx")
    assert f"1. `{RESTART}`" in plan.message and "2. `automation.service_status" in plan.message
    assert plan.interpretation is not None and plan.interpretation.confirmation == "disputed"
    assert plan.llm_calls == 1
    chosen = await hybrid.plan("the second one", ALICE, "thread-1")  # a choice is sent as written
    assert steps(chosen) == [("automation.service_status", ["web-01"])]
    assert len(server.requests) == 1  # the chosen reading is an exact command: no second call


async def test_a_disagreement_without_a_change_keeps_the_models_reason(
    server: ScriptedOpenAIServer, llm: LLMUnderstander
) -> None:
    says = "This asks whether to restart, it does not order it"
    server.reply_json({"verdict": "disagree", "reading": reading(outcome="no_action", message=says)})

    plan = await planner(llm).plan(CHANGE, ALICE)

    assert plan.outcome == "clarify" and plan.steps == () and plan.suggestions == (RESTART,)
    assert says in plan.message


async def test_a_model_reading_that_stage_c_rejects_is_not_offered(
    server: ScriptedOpenAIServer, llm: LLMUnderstander
) -> None:
    invented = {"tool": "automation.service_status", "args": {"service": "nginx"}, "targets": ["web-77"]}
    server.reply_json({"verdict": "disagree", "reading": reading(invented)})

    plan = await planner(llm).plan(CHANGE, ALICE)

    assert plan.outcome == "clarify" and plan.suggestions == (RESTART,) and "web-77" not in plan.message


async def test_disagreeing_with_the_same_reading_is_agreement(
    server: ScriptedOpenAIServer, llm: LLMUnderstander
) -> None:
    same = {"tool": "automation.service_control", "args": {"service": "nginx", "action": "restart"},
            "targets": ["web-01"]}  # fmt: skip
    server.reply_json({"verdict": "disagree", "reading": reading(same)})

    plan = await planner(llm).plan(CHANGE, ALICE)

    assert steps(plan) == [("automation.service_control", ["web-01"])]
    assert plan.interpretation is not None and plan.interpretation.confirmation == "confirmed"


@pytest.mark.parametrize("failure", ["down", "stall", "not-json"])
async def test_without_an_answer_the_change_still_needs_approval_and_says_unconfirmed(
    server: ScriptedOpenAIServer, llm: LLMUnderstander, failure: str
) -> None:
    if failure == "down":
        server.reply_status(503)
    elif failure == "stall":
        server.stall(1.0)
    else:
        server.reply_text('{"verdict": ')

    hybrid = planner(llm, fallback_timeout_s=0.3 if failure == "stall" else 30)
    plan = POLICY.apply(await hybrid.plan(CHANGE, ALICE), ALICE)

    assert steps(plan) == [("automation.service_control", ["web-01"])] and plan.requires_approval
    assert plan.interpretation is not None and plan.interpretation.confirmation == "unconfirmed"
    assert "could not check this reading" in plan.message and plan.llm_calls == 1
    assert hybrid.llm_down is (failure != "not-json")


async def test_a_change_longer_than_the_model_is_given_is_not_sent_and_says_unconfirmed(
    server: ScriptedOpenAIServer, llm: LLMUnderstander
) -> None:
    text = f"{CHANGE} {'because the cache keeps filling up ' * 130}"  # over max_text_chars (4,000)

    plan = await planner(llm).plan(text, ALICE)

    assert server.requests == [] and plan.llm_calls == 0
    assert steps(plan) == [("automation.service_control", ["web-01"])]
    assert plan.interpretation is not None and plan.interpretation.confirmation == "unconfirmed"
    assert "not sent: request longer than 4000 characters" in plan.message


async def test_a_confirmation_too_long_for_the_model_says_so() -> None:
    async with ScriptedOpenAIServer(context_tokens=256) as server:
        config = OpenAIClientConfig(base_url=server.base_url, model="stand-in-model", timeout_s=2, retries=2)
        async with OpenAICompatibleClient(config) as client:
            hybrid = planner(LLMUnderstander(client))
            plan = await hybrid.plan(CHANGE, ALICE)
        assert len(server.requests) == 1 and server.problems == []
    assert plan.outcome == "plan" and plan.interpretation is not None
    assert plan.interpretation.confirmation == "unconfirmed"
    assert "too long for it: the model takes 256 tokens" in plan.message and "unreachable" not in plan.message
    assert hybrid.llm_down is False


@pytest.mark.parametrize(
    "text",
    ["ping web-01", "is nginx running on web-02?", "show disk usage on db-01", RESTART, REBOOT],
)
async def test_reads_and_exact_commands_make_no_llm_call(
    server: ScriptedOpenAIServer, llm: LLMUnderstander, text: str
) -> None:
    plan = await planner(llm).plan(text, ALICE)

    assert plan.outcome == "plan" and plan.steps and plan.llm_calls == 0
    assert plan.interpretation is not None and plan.interpretation.confirmation == ""
    assert server.requests == []


async def test_eval_counts_the_confirmation_calls(server: ScriptedOpenAIServer, llm: LLMUnderstander) -> None:
    server.reply_json({"verdict": "agree"}, prompt_tokens=700, completion_tokens=5)
    cases: Sequence[Case] = [
        Case(id="c1", text=CHANGE, expect={"outcome": "plan"}),
        Case(id="r1", text="ping web-01", expect={"outcome": "plan"}),
    ]

    tally = await evaluate(cases, InMemoryAssetDirectory(ASSETS), llm=llm)

    change, read = tally.predictions
    assert (change.llm_calls, change.llm_tokens, change.needs_approval) == (1, 705, True)
    assert (read.llm_calls, read.llm_tokens) == (0, 0)
    names = [r.body["response_format"]["json_schema"]["name"] for r in server.requests]
    assert names == [CONFIRM_SCHEMA_NAME] and SCHEMA_NAME not in names


@pytest.mark.parametrize(("answer", "checked"), [({"verdict": "agree"}, "confirmed"), (None, "unconfirmed")])
async def test_the_approver_and_the_audit_see_whether_the_reading_was_confirmed(
    server: ScriptedOpenAIServer, llm: LLMUnderstander, answer: dict[str, Any] | None, checked: str
) -> None:
    if answer is None:
        server.reply_status(503)
    else:
        server.reply_json(answer)
    store, audit = MemoryExecutionStore(), MemoryAuditLog()
    kernel = Kernel(
        planner=planner(llm),
        policy=POLICY,
        identity=StaticIdentity({"alice": {"operator"}}),
        store=store,
        audit=audit,
        executor=Executor(REGISTRY, POLICY, store),
    )

    prompt = await kernel.submit(
        InboundMessage(identity=ChatIdentity(platform="console", user_id="alice"), text=CHANGE)
    )

    assert isinstance(prompt, ApprovalPrompt)
    (note,) = [line for line in plan_notes(prompt.plan) if "language model" in line]
    assert ("same way" in note) is (checked == "confirmed")
    (planned,) = [r["detail"] for r in audit.records if r["event"] == "plan"]
    assert planned["confirmation"] == checked and planned["understood_by"] in {"grammar", "lexicon"}


def test_the_confirmation_prompt_does_not_grow_with_the_inventory(llm: LLMUnderstander) -> None:
    """20,000 assets: the confirmation carries the names its request could refer to, not the
    inventory (the compose file's vLLM has 8,192 tokens of context; ~4 characters a token)."""
    assets = tuple(
        AssetRef(name=f"web-s{i % 40:02d}-{i:05d}", address=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                 type="web_server", location=f"site{i % 40:02d}", services=("nginx",))
        for i in range(20_000)
    )  # fmt: skip
    named = assets[1234].name
    text = f"restart nginx on {named}"
    call = {"tool": "automation.service_control", "args": {"service": "nginx", "action": "restart"}}
    reading = [ToolCall.model_validate({**call, "targets": [named]})]

    messages, _ = llm.prompt(text, assets, list(REGISTRY), reading=reading)

    assert sum(len(m["content"]) for m in messages) // 4 < 4_000
    assert named in messages[1]["content"] and assets[4321].name not in messages[1]["content"]
