"""Undo through the whole pipeline (FakeChat) on SQLite and PostgreSQL: a finished change offers
its inverse for a limited time; the undo is planned, policy-checked, approved and audited as an
execution of its own that names the original; assets.update restores the previous fields,
assets.delete restores the asset; after the window an undo is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.rendering import plain_report, plan_text
from db.assets import SqlAssetRepository
from db.audit import SqlAuditLog
from db.executions import SqlExecutionStore
from domains.assets.directory import AssetStore
from domains.assets.importer import demo_inventory
from domains.catalog import build_registry
from pipeline.contracts import (
    ApprovalPrompt,
    AssetRef,
    ExecutionResult,
    Plan,
    PlanStep,
    Reply,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
    utcnow,
)
from pipeline.undo import undo_steps
from tests.fakes.chat import FakeChat

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def fake(sessions: Sessions) -> tuple[FakeChat, SqlAssetRepository]:
    assets = SqlAssetRepository(sessions, ttl_s=0)
    await assets.import_assets(demo_inventory())
    chat = FakeChat(
        store=SqlExecutionStore(sessions),
        audit=SqlAuditLog(sessions),
        directory=assets,
        services={AssetStore: assets},
    )
    return chat, assets


async def approved(fake: FakeChat, text: str, user: str = "root") -> Reply:
    prompt = await fake.say(text, user=user)
    assert isinstance(prompt, ApprovalPrompt), prompt
    reply = await fake.click(prompt, "alan")
    assert isinstance(reply, Reply) and reply.outcome == "answer", reply
    return reply


async def undo(fake: FakeChat, execution_id: str, user: str = "root") -> ApprovalPrompt:
    stub = ApprovalPrompt.model_construct(execution_id=execution_id)
    prompt = await fake.click(stub, user, action="undo")
    assert isinstance(prompt, ApprovalPrompt), prompt
    return prompt


async def events(fake: FakeChat, execution_id: str) -> dict[str, dict[str, Any]]:
    assert isinstance(fake.audit, SqlAuditLog)
    return {e.event: e.detail for e in await fake.audit.entries(execution_id)}


async def test_undo_of_an_update_restores_the_previous_fields(
    fake: tuple[FakeChat, SqlAssetRepository],
) -> None:
    chat, assets = fake
    done = await approved(chat, "assets.update loopback-3 environment=production location=paris")
    assert done.execution_id is not None and done.undo is not None and done.undo.until is not None
    assert done.undo.steps == ("assets.update environment=staging location=local on loopback-3",)
    assert "↩️ Undo possible until" in plain_report(done)
    changed = await assets.get("loopback-3")
    assert changed is not None and (changed.environment, changed.location) == ("production", "paris")

    prompt = await undo(chat, done.execution_id)
    assert prompt.plan.undo_of == done.execution_id and prompt.execution_id != done.execution_id
    assert [(s.tool, s.args, s.target_names) for s in prompt.plan.steps] == [
        ("assets.update", {"environment": "staging", "location": "local"}, ["loopback-3"])
    ]
    assert f"↩️ Undo of execution {done.execution_id}" in plan_text(prompt)
    assert prompt.plan.impact is not None  # an undo is a change like any other: impact, approval
    planned = (await events(chat, prompt.execution_id))["plan"]
    assert planned["undo_of"] == done.execution_id

    restored = await chat.click(prompt, "alan")
    assert isinstance(restored, Reply) and restored.outcome == "answer"
    assert restored.summary.startswith(f"Undo of execution {done.execution_id}")
    assert restored.undo is None  # an undo offers no undo of its own
    back = await assets.get("loopback-3")
    assert back is not None and (back.environment, back.location) == ("staging", "local")


async def test_undo_of_a_delete_restores_the_asset(fake: tuple[FakeChat, SqlAssetRepository]) -> None:
    chat, assets = fake
    before = await assets.get("loopback-v6")
    done = await approved(chat, "assets.delete loopback-v6")
    assert await assets.get("loopback-v6") is None
    assert done.execution_id is not None
    stub = ApprovalPrompt.model_construct(execution_id=done.execution_id)
    refused = await chat.click(stub, "olga", action="undo")  # anyone may ask; policy decides
    assert refused.outcome == "refused" and "do not allow assets.create" in refused.summary
    prompt = await undo(chat, done.execution_id)
    assert [s.tool for s in prompt.plan.steps] == ["assets.create"]
    assert (await chat.click(prompt, "alan")).outcome == "answer"
    assert await assets.get("loopback-v6") == before


async def test_an_undo_after_its_window_is_refused_and_audited(
    fake: tuple[FakeChat, SqlAssetRepository],
) -> None:
    chat, assets = fake
    done = await approved(chat, "assets.update loopback-3 location=paris")
    assert done.execution_id is not None and done.undo is not None and done.undo.until is not None
    later = done.undo.until + timedelta(seconds=1)
    chat.kernel.clock = lambda: later
    stub = ApprovalPrompt.model_construct(execution_id=done.execution_id)
    refused = await chat.click(stub, "root", action="undo")
    assert refused.outcome == "refused" and "undo window" in refused.summary
    assert (await events(chat, done.execution_id))["undo.refused"]["why"] == refused.summary
    changed = await assets.get("loopback-3")
    assert changed is not None and changed.location == "paris"  # nothing was run


def test_restarts_and_reboots_say_they_have_no_inverse() -> None:
    web = AssetRef(name="web-01", address="127.0.0.1")
    steps = (
        PlanStep(
            id="s1",
            tool="automation.service_control",
            args={"service": "nginx", "action": "stop"},
            targets=(web,),
            risk=Risk.WRITE,
        ),
        PlanStep(
            id="s2",
            tool="automation.service_control",
            args={"service": "redis", "action": "restart"},
            targets=(web,),
            risk=Risk.WRITE,
        ),
        PlanStep(id="s3", tool="automation.reboot", targets=(web,), risk=Risk.CRITICAL),
    )
    ok = (TargetResult(target="web-01", status=TargetStatus.OK, output=ToolOutput()),)
    result = ExecutionResult(
        execution_id="e1",
        status="succeeded",
        steps=tuple(StepResult(step_id=s.id, tool=s.tool, results=ok) for s in steps),
        finished_at=utcnow(),
    )
    inverse, none = undo_steps(Plan(steps=steps), result, build_registry())
    assert [(s.tool, s.args, s.target_names) for s in inverse] == [
        ("automation.service_control", {"service": "nginx", "action": "start"}, ["web-01"])
    ]
    assert none == [
        "automation.reboot on web-01: a reboot cannot be undone",
        "automation.service_control on web-01: a restart has no inverse (the service is running as before)",
    ]
