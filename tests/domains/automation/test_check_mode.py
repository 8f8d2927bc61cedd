"""Check mode on a real sshd, through the whole pipeline: a hypothetical, `ask --check` and the
prompt's "Check first" button run the change tools' read-only checks, which report the current
state per host and change nothing (sshd keeps its processes; the rebootable host does not reboot)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import demo_inventory
from domains.automation.ports import AutomationOptions
from pipeline.contracts import ApprovalPrompt, AssetRef, Reply, StepResult, TargetStatus
from tests.fakes.chat import FakeChat
from tests.integration.sshd_fixtures import REBOOTABLE, SSH_HOSTS
from tests.integration.sshd_testbed import RebootableHost, SshdTestbed

pytestmark = pytest.mark.sshd


CHECKED = "127.0.0.22"  # a rebootable host of this module's own (one supervisor per address)


@pytest.fixture(scope="module")
def rebootable(sshd_testbed: SshdTestbed) -> RebootableHost:
    return sshd_testbed.restartable_sshd(CHECKED)


@pytest.fixture
def testbed_known_hosts(sshd_testbed: SshdTestbed, tmp_path: Path) -> Path:
    return sshd_testbed.write_known_hosts(tmp_path / "known_hosts", [*SSH_HOSTS, REBOOTABLE, CHECKED])


@pytest.fixture
def chat(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, rebootable: RebootableHost
) -> tuple[FakeChat, RebootableHost]:
    host = rebootable
    services[AutomationOptions] = AutomationOptions(  # a check that rebooted would kill this sshd only
        linux_reboot_command=host.reboot_command,
        linux_boot_id_command=host.boot_id_command,
        reboot_poll_interval_s=0.2,
    )
    inventory = [*demo_inventory(), AssetRef(name="app-01", address=CHECKED, environment="staging")]
    return FakeChat(directory=InMemoryAssetDirectory(inventory), services=services), host


def check_step(reply: Reply) -> StepResult:
    assert reply.plan is not None and reply.result is not None
    [step] = [s for s in reply.plan.steps if s.check]
    return next(r for r in reply.result.steps if r.step_id == step.id)


async def sshd_check(fake: FakeChat) -> dict[str, Any]:
    reply = await fake.say("stop sshd on loopback-2", check=True)
    assert isinstance(reply, Reply) and reply.outcome == "answer", reply
    [result] = check_step(reply).results
    assert result.status is TargetStatus.OK, result.error
    return result.output.data


async def test_ask_check_reports_the_service_and_changes_nothing(
    chat: tuple[FakeChat, RebootableHost],
) -> None:
    fake, _host = chat
    before = await sshd_check(fake)
    assert before["running"] and before["listeners"] and 22 in before["ports"]
    assert before["connections"] >= 1  # at least the check's own SSH session
    assert "running: stop would stop it" in before["would"] and "would be dropped" in before["would"]
    assert before["since"].startswith("for ")
    after = await sshd_check(fake)
    assert after["listeners"] == before["listeners"] and after["running"]  # the same sshd: not stopped
    [(_, _, reply)] = [t for t in fake.transcript if t[1] == "stop sshd on loopback-2"][:1]
    assert isinstance(reply, Reply) and reply.summary.startswith("Check only, nothing was changed")
    assert reply.plan is not None and not reply.plan.requires_approval
    assert all(s.check and s.risk.value == "read" for s in reply.plan.steps)


async def test_a_hypothetical_runs_the_check(chat: tuple[FakeChat, RebootableHost]) -> None:
    fake, _host = chat
    reply = await fake.say("what would happen if I restarted sshd on loopback-2?")
    assert isinstance(reply, Reply) and reply.outcome == "answer"
    [result] = check_step(reply).results
    assert result.status is TargetStatus.OK and result.output.data["action"] == "restart"
    assert "restart would stop and start it" in result.output.summary
    assert reply.suggestions  # the change itself is still only offered


async def test_reboot_check_reports_uptime_and_does_not_reboot(chat: tuple[FakeChat, RebootableHost]) -> None:
    fake, host = chat
    boots = host.boots
    reply = await fake.say("reboot app-01", check=True)
    assert isinstance(reply, Reply) and reply.outcome == "answer", reply
    [result] = check_step(reply).results
    assert result.status is TargetStatus.OK, result.error
    data = result.output.data
    assert data["uptime"]["seconds"] >= 0 and isinstance(data["users"], list)
    assert "cannot tell which services start at boot (no systemd)" in result.output.summary
    await asyncio.sleep(1.0)  # the rebootable sshd comes back 0.5 s after a kill: give it time
    assert host.boots == boots  # never rebooted


async def test_check_first_on_a_prompt_leaves_the_approval_open(
    chat: tuple[FakeChat, RebootableHost],
) -> None:
    fake, host = chat
    boots = host.boots
    prompt = await fake.say("reboot app-01")
    assert isinstance(prompt, ApprovalPrompt)
    checked = await fake.click(prompt, "alan", action="check")
    assert isinstance(checked, Reply) and checked.outcome == "answer", checked
    assert checked.summary.startswith(f"Check of execution {prompt.execution_id}")
    assert checked.execution_id != prompt.execution_id
    [result] = check_step(checked).results
    assert result.status is TargetStatus.OK and "check reboot: up" in result.output.summary
    record = await fake.store.approval(prompt.execution_id)
    assert record is not None and record.state == "pending"
    await asyncio.sleep(1.0)
    assert host.boots == boots
    events = [(r["event"], r["execution_id"]) for r in fake.memory_audit.records]
    assert ("check.requested", checked.execution_id) in events
