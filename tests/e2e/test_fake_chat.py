"""Conversations with the whole pipeline in memory: understanding, policy, approvals, real tools."""

from __future__ import annotations

import asyncio

from pipeline.contracts import ApprovalPrompt, Reply, TargetStatus
from tests.fakes.chat import FakeChat


async def test_a_read_request_runs_at_once_with_a_real_ping(fake_chat: FakeChat) -> None:
    reply = await fake_chat.say("hey, can you ping localhost and loopback-2 please")
    assert isinstance(reply, Reply) and reply.outcome == "answer"
    results = {r.target: r for r in reply.result.steps[0].results}  # type: ignore[union-attr]
    assert set(results) == {"localhost", "loopback-2"}
    assert all(r.status is TargetStatus.OK and r.output.data["received"] >= 1 for r in results.values())
    assert fake_chat.progress[0].done == 0  # the run announced itself first
    assert fake_chat.memory_audit.events()[:2] == ["request", "plan"]


async def test_a_change_waits_for_an_approver_and_runs_once(fake_chat: FakeChat) -> None:
    prompt = await fake_chat.say("restart nginx on loopback-2")
    assert isinstance(prompt, ApprovalPrompt) and not prompt.four_eyes
    assert prompt.plan.steps[0].args == {"service": "nginx", "action": "restart"}
    viewer = await fake_chat.click(prompt, "vic")
    assert viewer.outcome == "refused"
    results = await asyncio.gather(fake_chat.click(prompt, "alan"), fake_chat.click(prompt, "alan"))
    ran = [r for r in results if isinstance(r, Reply) and r.outcome == "answer"]
    assert len(ran) == 1  # a double click runs nothing twice
    assert fake_chat.memory_store.claims == 1
    # no SSH service is registered in memory: the step fails cleanly, per target, with a reason
    [result] = ran[0].result.steps[0].results  # type: ignore[union-attr]
    assert result.target == "loopback-2" and result.status is not TargetStatus.OK and result.error


async def test_critical_needs_a_second_person(fake_chat: FakeChat) -> None:
    prompt = await fake_chat.say("reboot loopback-4", user="root")
    assert isinstance(prompt, ApprovalPrompt) and prompt.four_eyes
    own = await fake_chat.click(prompt, "root")
    assert own.outcome == "refused" and "second person" in own.summary
    assert fake_chat.memory_store.claims == 0


async def test_refusals_questions_and_chit_chat(fake_chat: FakeChat) -> None:
    refused = await fake_chat.say("stop nginx on loopback-2", user="vic")
    assert refused.outcome == "refused"
    unknown = await fake_chat.say("ping web-09")
    assert unknown.outcome == "clarify" and "web-09" in unknown.summary
    weather = await fake_chat.say("what's the weather like in Paris?")
    assert weather.outcome == "no_action"
    stranger = await fake_chat.say("ping localhost", user="mallory")
    assert stranger.outcome == "refused" and "don't know who you are" in stranger.summary
    assert fake_chat.memory_store.claims == 0


async def test_inventory_questions_are_answered_from_the_inventory(fake_chat: FakeChat) -> None:
    reply = await fake_chat.say("which hosts run nginx?")
    assert isinstance(reply, Reply) and reply.outcome == "answer"
    assert {s.title for s in reply.sections} == {"loopback-2", "loopback-v6"}
