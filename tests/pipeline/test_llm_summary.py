"""Stage D with an LLM summary configured: the person reads the model's summary over the templated
answer, marked as the model's; when the model cannot answer, the templated answer alone. The
model is the scripted OpenAI-compatible server (a vLLM stand-in) behind the real client."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from adapters.llm import OpenAIClientConfig, OpenAICompatibleClient
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Reply,
    Risk,
    ToolOutput,
)
from pipeline.kernel import Kernel, KernelConfig
from pipeline.llm_understander import SUMMARY_TITLE, LLMResultSummarizer
from pipeline.policy import Policy
from pipeline.registry import ToolContext, ToolRegistry, ToolSet
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity
from tests.fakes.openai_server import ScriptedOpenAIServer

probe = ToolSet("probe")
HOST = AssetRef(name="web-01", address="127.0.0.1")


class NoArgs(BaseModel):
    pass


@probe.tool("probe.disk", NoArgs, risk=Risk.READ, timeout_s=5)
async def disk(ctx: ToolContext, target: AssetRef | None, args: NoArgs) -> ToolOutput:
    """Read the disk use."""
    return ToolOutput(summary="/var 97% used", stdout="/dev/sda2 97% /var")


REGISTRY = ToolRegistry([probe])
POLICY = Policy.from_mapping(
    {"roles": {"viewer": {"grants": [{"tools": ["*"], "max_risk": "read"}]}}}, REGISTRY
)


class DiskPlanner:
    """Stand-in for stages A-C: every request reads the disk of web-01."""

    async def plan(self, text: str, principal: Principal, conversation: str = "") -> Plan:
        return Plan(steps=(PlanStep(id="s1", tool="probe.disk", targets=(HOST,)),))


async def answer(server: ScriptedOpenAIServer, timeout_s: float = 5.0) -> Reply:
    config = OpenAIClientConfig(base_url=server.base_url, model="stand-in-model", timeout_s=2, retries=0)
    async with OpenAICompatibleClient(config) as client:
        store = MemoryExecutionStore()
        kernel = Kernel(
            planner=DiskPlanner(),
            policy=POLICY,
            identity=StaticIdentity({"vic": {"viewer"}}),
            store=store,
            audit=MemoryAuditLog(),
            executor=Executor(REGISTRY, POLICY, store),
            config=KernelConfig(summary_timeout_s=timeout_s),
            summarizer=LLMResultSummarizer(client),
        )
        message = InboundMessage(
            identity=ChatIdentity(platform="console", user_id="vic"), text="disk on web-01?"
        )
        reply = await kernel.submit(message)
    assert isinstance(reply, Reply) and reply.outcome == "answer"
    return reply


async def test_the_models_summary_comes_first_and_is_marked_as_the_models(
    server: ScriptedOpenAIServer,
) -> None:
    server.reply_json({"summary": "/var on web-01 is nearly full.", "recommendations": ["Rotate the logs."]})

    reply = await answer(server)

    assert reply.answer_by == "llm"
    assert (reply.sections[0].title, reply.sections[0].text) == (
        SUMMARY_TITLE,
        "/var on web-01 is nearly full.",
    )
    assert "/var 97% used" in reply.summary  # the templated line stays: the model cannot hide the facts
    assert "Rotate the logs." in reply.recommendations
    assert "/dev/sda2 97% /var" in server.requests[0].messages[1]["content"]


@pytest.mark.parametrize("failure", ["down", "not-fitting", "stall"])
async def test_without_the_model_the_templated_answer_is_sent(
    server: ScriptedOpenAIServer, failure: str
) -> None:
    if failure == "down":
        server.reply_status(503)
    elif failure == "not-fitting":
        server.reply_json({"summary": "", "recommendations": []})
    else:
        server.stall(1.0)

    reply = await answer(server, timeout_s=0.3)

    assert reply.answer_by == "template"
    assert [s.title for s in reply.sections] == ["web-01"] and "/var 97% used" in reply.summary
