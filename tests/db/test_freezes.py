"""Change freezes from the policy data, through the whole pipeline (FakeChat) on SQLite and
PostgreSQL: a change in an open window is refused naming the window; an admin's override with a
reason is audited and shown on the prompt; a window that opens before the approval stops the run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.rendering import plan_text
from db.assets import SqlAssetRepository
from db.audit import SqlAuditLog
from db.executions import SqlExecutionStore
from domains.assets.importer import demo_inventory
from domains.catalog import build_registry
from pipeline.contracts import ApprovalPrompt, Reply
from pipeline.errors import InvalidRequest
from pipeline.policy import Policy
from tests.fakes.chat import FakeChat

Sessions = async_sessionmaker[AsyncSession]
SATURDAY = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # inside Friday 18:00 + 62 h
BEFORE = datetime(2026, 12, 4, 17, 55, tzinfo=UTC)  # five minutes before the window opens
OPENED = datetime(2026, 12, 4, 18, 5, tzinfo=UTC)
WEEKEND = {"name": "weekend-production", "cron": "0 18 * * fri", "hours": 62, "environments": ["production"]}


def policy(*windows: dict[str, Any]) -> Policy:
    roles = Policy.default().data.model_dump(mode="json")["roles"]
    return Policy.from_mapping({"roles": roles, "freezes": {"windows": list(windows)}}, build_registry())


@pytest.fixture
async def fake(sessions: Sessions) -> FakeChat:
    assets = SqlAssetRepository(sessions)
    await assets.import_assets(demo_inventory())
    chat = FakeChat(
        store=SqlExecutionStore(sessions),
        audit=SqlAuditLog(sessions),
        directory=assets,
        policy=policy(WEEKEND),
    )
    chat.kernel.clock = lambda: SATURDAY
    return chat


async def events(fake: FakeChat, execution_id: str) -> dict[str, dict[str, Any]]:
    assert isinstance(fake.audit, SqlAuditLog)
    return {e.event: e.detail for e in await fake.audit.entries(execution_id)}


async def test_a_change_in_an_open_window_is_refused_naming_it(fake: FakeChat) -> None:
    reply = await fake.say("restart redis on loopback-4")
    assert isinstance(reply, Reply) and reply.outcome == "refused"
    assert "weekend-production (Fri 2026-12-04 18:00 to Mon 2026-12-07 08:00 UTC; covers loopback-4)" in (
        reply.summary
    )
    assert 'override freeze "REASON": restart redis on loopback-4' in reply.summary
    assert reply.execution_id is not None
    assert (await events(fake, reply.execution_id))["plan"]["outcome"] == "refused"
    # reads and targets outside the window are not frozen
    assert (await fake.say("ping loopback-4")).outcome == "answer"
    assert isinstance(await fake.say("restart nginx on loopback-2"), ApprovalPrompt)


async def test_only_an_admin_overrides_and_the_override_is_audited(fake: FakeChat) -> None:
    request = 'override freeze "hotfix for INC-42": restart redis on loopback-4'
    operator = await fake.say(request)
    assert operator.outcome == "refused" and "Only admin may override it" in operator.summary

    prompt = await fake.say(request, user="root")
    assert isinstance(prompt, ApprovalPrompt)
    override = prompt.plan.freeze_override
    assert override is not None
    assert (override.by, override.reason, override.windows) == (
        "root",
        "hotfix for INC-42",
        ("weekend-production",),
    )
    assert prompt.plan.steps[0].args == {"service": "redis", "action": "restart"}
    audited = (await events(fake, prompt.execution_id))["freeze.override"]
    assert audited["reason"] == "hotfix for INC-42" and audited["windows"] == ["weekend-production"]
    assert "⚠️ Change freeze overridden by root (hotfix for INC-42): weekend-production" in plan_text(prompt)

    ran = await fake.click(prompt, "alan")
    assert isinstance(ran, Reply) and ran.outcome == "answer"  # the override holds at run time


async def test_a_window_opening_before_the_approval_stops_the_run(fake: FakeChat) -> None:
    fake.kernel.clock = lambda: BEFORE
    prompt = await fake.say("restart redis on loopback-4")
    assert isinstance(prompt, ApprovalPrompt) and prompt.plan.freeze_override is None
    fake.kernel.clock = lambda: OPENED
    reply = await fake.click(prompt, "alan")
    assert reply.outcome == "refused" and "freeze opened since this plan was made" in reply.summary
    refused = (await events(fake, prompt.execution_id))["execution.refused"]
    assert "weekend-production" in refused["freeze"]
    loaded = await fake.store.load(prompt.execution_id)
    assert loaded is not None and loaded[2] == "refused"


async def test_tag_windows_time_zones_and_bad_data(sessions: Sessions) -> None:
    tagged = {
        "name": "data-freeze",
        "cron": "0 9 * * *",
        "hours": 1,
        "timezone": "Europe/Paris",
        "tags": {"team": "data"},
    }
    chosen = policy(tagged)
    nine_paris = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)  # 09:30 in Paris
    hosts = {a.name: a for a in demo_inventory()}
    step_plan = (await FakeChat(policy=chosen).say("restart postgresql on loopback-3")).plan  # type: ignore[union-attr]
    assert step_plan is not None
    [hit] = chosen.freeze_hits(step_plan, nine_paris)
    assert hit.targets == ("loopback-3",) and hosts["loopback-3"].tags["team"] == "data"
    assert chosen.freeze_hits(step_plan, datetime(2026, 12, 5, 9, 30, tzinfo=UTC)) == []  # 10:30 in Paris
    with pytest.raises(InvalidRequest, match=r"freezes\.windows\.0\.cron"):
        policy({**WEEKEND, "cron": "every friday"})
    with pytest.raises(InvalidRequest, match=r"freezes\.windows\.0\.timezone"):
        policy({**WEEKEND, "timezone": "Mars/Olympus"})
