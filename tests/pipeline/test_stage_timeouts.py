"""Hole 11: every stage before execution runs under a time limit from settings: one LLM call
(then the grammar's answer stands), understanding as a whole, and identity resolution. The
model is the scripted OpenAI-compatible server stalling; the kernel is the real one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.llm import OpenAIClientConfig, OpenAICompatibleClient
from pipeline.contracts import ChatIdentity, InboundMessage, Principal
from pipeline.kernel import Kernel, KernelConfig
from pipeline.llm_understander import LLMUnderstander
from pipeline.nlu import messages as nlu_messages
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity
from tests.fakes.openai_server import ScriptedOpenAIServer
from tests.pipeline.test_llm_planner import REGISTRY, UNSURE, StaticDirectory, permitted

ALICE = ChatIdentity(platform="slack", tenant="T1", user_id="U1")


class SilentIdentity:
    """An identity service that never answers."""

    async def resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        await asyncio.Event().wait()
        return None


@pytest.fixture
async def server() -> AsyncIterator[ScriptedOpenAIServer]:
    async with ScriptedOpenAIServer() as s:
        yield s


async def kernel_with(
    server: ScriptedOpenAIServer, *, identity: Any = None, **limits: float
) -> AsyncIterator[Kernel]:
    config = OpenAIClientConfig(base_url=server.base_url, model="stand-in-model", timeout_s=120, retries=0)
    async with OpenAICompatibleClient(config) as client:
        planner = HybridPlanner(
            REGISTRY,
            StaticDirectory(),
            fallback=LLMUnderstander(client),
            permitted_tools=permitted,
            fallback_timeout_s=limits.pop("llm_call_s", 120),
        )
        policy = Policy.default(REGISTRY)
        store = MemoryExecutionStore()
        yield Kernel(
            planner=planner,
            policy=policy,
            identity=identity or StaticIdentity({"U1": {"operator"}}),
            store=store,
            audit=MemoryAuditLog(),
            executor=Executor(REGISTRY, policy, store),
            config=KernelConfig(**limits),
        )


async def ask(kernel: Kernel, text: str = UNSURE) -> Any:
    return await kernel.submit(InboundMessage(identity=ALICE, text=text, channel="C1"))


async def test_an_llm_call_over_its_limit_leaves_the_grammars_answer(server: ScriptedOpenAIServer) -> None:
    server.stall(60)
    async for kernel in kernel_with(server, llm_call_s=0.5, plan_timeout_s=60):
        reply = await ask(kernel)
        assert reply.outcome == "clarify"
        assert reply.summary.startswith(nlu_messages.LLM_DOWN)
        assert len(server.requests) == 1
        assert (await ask(kernel, "help")).outcome == "no_action"  # the grammar keeps serving


async def test_understanding_over_its_limit_is_answered_and_runs_nothing(
    server: ScriptedOpenAIServer,
) -> None:
    server.stall(60)
    async for kernel in kernel_with(server, llm_call_s=120, plan_timeout_s=0.5):
        reply = await ask(kernel)
        assert reply.outcome == "error"
        assert reply.summary.startswith("I took too long understanding your request (limit 0.5 s)")
        assert "nothing was run" in reply.summary
        assert kernel.store.executions == {}  # type: ignore[attr-defined]


async def test_identity_over_its_limit_is_answered(server: ScriptedOpenAIServer) -> None:
    async for kernel in kernel_with(server, identity=SilentIdentity(), identity_timeout_s=0.3):
        reply = await ask(kernel, "help")
        assert reply.outcome == "error"
        assert "can't check your permissions right now" in reply.summary
        assert server.requests == []
