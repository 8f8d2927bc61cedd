"""copy_file's destination is an asset the change affects, like its targets: the plan names it
(`PlanStep.destinations`), policy checks it when planned, impact counts it (production, locks,
recent changes: four eyes), the prompt names it, the execution lock covers it, and the undo puts
its previous bytes back. Real sshd (the testbed's loopback addresses share this file system),
real SQLite store, locks and impact facts, the whole pipeline through FakeChat.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.rendering import plan_notes, plan_text
from db.assets import SqlAssetRepository
from db.audit import SqlAuditLog
from db.executions import SqlExecutionStore
from db.impact import SqlImpactFacts
from db.locks import SqlTargetLocks
from domains.assets.importer import demo_inventory
from domains.catalog import build_registry
from pipeline.contracts import (
    ApprovalPrompt,
    ChatIdentity,
    InboundMessage,
    Plan,
    Principal,
    Reply,
    TargetStatus,
)
from pipeline.policy import Policy
from tests.domains.automation.test_file_changes_sshd import approved, only_result, prepare, snapshot
from tests.fakes.chat import FakeChat
from tests.integration.sshd_testbed import SshdTestbed

pytestmark = pytest.mark.sshd

Sessions = async_sessionmaker[AsyncSession]
BEFORE = b"listen 80;\x00\xfe old bytes\r\nno final newline"
STAGING_ONLY = {
    "roles": {
        "operator": {
            "grants": [
                {"tools": ["*"], "max_risk": "read"},
                {"tools": ["automation.*"], "max_risk": "write", "scope": {"environments": ["staging"]}},
            ]
        },
        "approver": {"grants": [{"tools": ["*"], "max_risk": "read"}], "approves": ["write", "critical"]},
    }
}


@pytest.fixture
async def fake(sessions: Sessions, services: dict[type[Any], Any]) -> FakeChat:
    assets = SqlAssetRepository(sessions)
    await assets.import_assets(demo_inventory())
    return FakeChat(
        store=SqlExecutionStore(sessions),
        audit=SqlAuditLog(sessions),
        directory=assets,
        impact=SqlImpactFacts(sessions, assets),
        services=services,
        locks=SqlTargetLocks(sessions),
        lock_wait_s=0.5,
    )


def files(tmp_path: Path) -> tuple[Path, Path]:
    source = prepare(tmp_path / "web" / "site.conf", b"listen 8080;\n", 0o644, (1234, 2345))
    there = prepare(tmp_path / "dest" / "site.conf", BEFORE, 0o600, (3456, 4567))
    return source, there


async def test_a_production_destination_is_in_the_impact_and_needs_four_eyes(
    fake: FakeChat, in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source, there = files(tmp_path)
    before = snapshot(there.parent)
    prompt = await fake.say(f"automation.copy_file loopback-2 path={source} to=loopback-4 to_path={there}")
    assert isinstance(prompt, ApprovalPrompt), prompt
    [step] = prompt.plan.steps
    assert [t.name for t in step.targets] == ["loopback-2"]
    assert [d.name for d in step.destinations] == ["loopback-4"]
    impact = prompt.plan.impact
    assert impact is not None and impact.hosts == 2 and impact.production == ("loopback-4",)
    assert prompt.four_eyes and "production target(s): loopback-4" in impact.four_eyes
    notes = plan_notes(prompt.plan)
    assert "✍️ automation.copy_file writes on loopback-4 (production) (besides its targets)" in notes
    assert "writes on loopback-4" in plan_text(prompt)
    assert snapshot(there.parent) == before  # the preview of the diff there wrote nothing


async def test_a_destination_outside_the_requester_s_scope_is_refused_when_planned(
    sessions: Sessions, services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source, there = files(tmp_path)
    before = snapshot(there.parent)
    fake = FakeChat(services=services, policy=Policy.from_mapping(STAGING_ONLY, build_registry()))
    reply = await fake.say(f"automation.copy_file loopback-2 path={source} to=loopback-4 to_path={there}")
    assert isinstance(reply, Reply) and reply.outcome == "refused", reply
    assert "only on targets in environment staging" in reply.summary
    same = await fake.say(f"automation.copy_file loopback-2 path={source} to=loopback-3 to_path={there}")
    assert isinstance(same, ApprovalPrompt), same  # a staging destination is within the scope
    assert snapshot(there.parent) == before


async def test_a_denied_path_at_the_destination_is_refused_when_planned(
    fake: FakeChat, in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source, _there = files(tmp_path)
    reply = await fake.say(f"automation.copy_file loopback-2 path={source} to=loopback-3 to_path=/etc/shadow")
    assert isinstance(reply, Reply) and reply.outcome == "refused", reply
    assert "to_path" in reply.summary and "/etc/shadow is denied by path rule shadow-files" in reply.summary


async def test_an_unknown_destination_is_asked_back_before_anything_runs(
    fake: FakeChat, in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source, there = files(tmp_path)
    reply = await fake.say(f"automation.copy_file loopback-2 path={source} to=nowhere-9 to_path={there}")
    assert isinstance(reply, Reply) and reply.outcome == "clarify", reply
    assert "nowhere-9" in reply.summary and "inventory" in reply.summary


async def test_a_destination_another_run_holds_is_locked_flagged_and_left_alone(
    sessions: Sessions, fake: FakeChat, in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source, there = files(tmp_path)
    before = snapshot(there.parent)
    other = SqlTargetLocks(sessions)
    message = InboundMessage(identity=ChatIdentity(platform="console", user_id="ann"), text="another run")
    running = await fake.store.create(Plan(), message, Principal(subject="ann"), "running")
    assert await other.acquire(running, ["loopback-3"], 120) == {}
    prompt = await fake.say(f"automation.copy_file loopback-2 path={source} to=loopback-3 to_path={there}")
    assert isinstance(prompt, ApprovalPrompt) and prompt.plan.impact is not None
    assert prompt.plan.impact.locked == {"loopback-3": running} and prompt.plan.impact.level == "high"
    reply = await fake.click(prompt, "alan")
    assert isinstance(reply, Reply)
    result = only_result(reply)
    assert result.status is TargetStatus.FAILED
    assert f"busy: another run is changing loopback-3 (execution {running})" in result.error
    assert snapshot(there.parent) == before  # never written while the other run held it
    await other.release(running)
    again = await approved(
        fake, f"automation.copy_file loopback-2 path={source} to=loopback-3 to_path={there}"
    )
    assert only_result(again).status is TargetStatus.OK and there.read_bytes() == b"listen 8080;\n"
    assert await other.holders(["loopback-2", "loopback-3"]) == {}  # released after the step


async def test_a_copy_marks_its_destination_as_recently_changed_and_undo_restores_it(
    fake: FakeChat, in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source, there = files(tmp_path)
    copied = await approved(
        fake, f"automation.copy_file loopback-2 path={source} to=loopback-3 to_path={there}"
    )
    assert there.read_bytes() == b"listen 8080;\n"
    next_one = await fake.say(f'automation.write_file loopback-3 path={there} content="listen 9090;"')
    assert isinstance(next_one, ApprovalPrompt) and next_one.plan.impact is not None
    recent = next_one.plan.impact.recent
    assert "loopback-3" in recent and recent["loopback-3"].execution_id == copied.execution_id
    await fake.click(next_one, "alan", approve=False)

    assert copied.execution_id is not None
    stub = ApprovalPrompt.model_construct(execution_id=copied.execution_id)
    prompt = await fake.click(stub, "olga", action="undo")
    assert isinstance(prompt, ApprovalPrompt), prompt
    [step] = prompt.plan.steps
    assert [d.name for d in step.destinations] == ["loopback-3"] and step.target_names == ["loopback-3"]
    done = await fake.click(prompt, "alan")
    assert isinstance(done, Reply) and only_result(done).status is TargetStatus.OK, done
    assert there.read_bytes() == BEFORE  # the destination's previous bytes, exactly
    assert (there.stat().st_mode & 0o7777, there.stat().st_uid) == (0o600, 3456)
    assert source.read_bytes() == b"listen 8080;\n"


async def test_check_mode_reports_the_change_at_the_destination_and_writes_nothing(
    fake: FakeChat, in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source, there = files(tmp_path)
    before = snapshot(there.parent)
    reply = await fake.say(
        f"automation.copy_file loopback-2 path={source} to=loopback-3 to_path={there}", check=True
    )
    assert isinstance(reply, Reply) and reply.outcome == "answer", reply
    result = only_result(reply)
    assert result.status is TargetStatus.OK, result.error
    assert result.output.data["asset"] == "loopback-3" and result.output.data["check"] is True
    assert "on loopback-3: would change" in result.output.summary
    assert "differ (40 -> 13 bytes)" in result.output.stdout  # the bytes there, against the copy
    assert snapshot(there.parent) == before
    assert os.listdir(there.parent) == ["site.conf"]  # no backup, no temporary file
