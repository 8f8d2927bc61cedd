"""A long command's output streams as throttled progress; cancelling the run stops it on the target.

Real OpenSSH sshd (tests/integration/sshd_testbed.py), the real `automation.run_command`, the real
executor and kernel (memory stores: FakeChat), the real throttle the chat adapters use.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.progress import ThrottledProgress
from adapters.ssh import AsyncsshShell
from domains.automation.ports import RemoteShell
from domains.catalog import build_registry
from pipeline.cancel import CancelRequest
from pipeline.contracts import (
    ApprovalPrompt,
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Progress,
    Reply,
    Risk,
    TargetStatus,
)
from pipeline.policy import Policy
from pipeline.stages.execute import Executor
from tests.fakes.chat import FakeChat
from tests.fakes.memory import MemoryExecutionStore
from tests.integration.sshd_fixtures import SSH_HOSTS
from tests.integration.target_processes import files_left, kill_groups, running, started

pytestmark = pytest.mark.sshd

HOST = AssetRef(name="loopback-2", address=SSH_HOSTS[1])
OLGA = Principal(subject="olga", roles=frozenset({"operator"}))
INTERVAL_S = 0.5


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "canary"
    yield path
    kill_groups(str(path))


def executor(shell: AsyncsshShell) -> Executor:
    registry = build_registry()
    services: dict[type[Any], Any] = {RemoteShell: shell}
    return Executor(registry, Policy.default(registry), MemoryExecutionStore(), services=services)


async def start(run: Executor, *commands: str) -> tuple[str, Plan]:
    steps = tuple(
        PlanStep(
            id=f"s{n}",
            tool="automation.run_command",
            args={"command": command, "timeout_s": 60},
            targets=(HOST,),
            risk=Risk.CRITICAL,
        )
        for n, command in enumerate(commands, 1)
    )
    plan = Plan(steps=steps)
    message = InboundMessage(identity=ChatIdentity(platform="console", user_id="olga"), text=commands[0])
    return await run.store.create(plan, message, OLGA, "approved"), plan


async def test_output_streams_within_the_throttle(shell: AsyncsshShell) -> None:
    shown: list[tuple[float, Progress]] = []

    async def show(event: Progress) -> None:
        shown.append((time.monotonic(), event))

    progress = ThrottledProgress(show, INTERVAL_S)
    run = executor(shell)
    execution_id, plan = await start(run, "for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.4; done")
    began = time.monotonic()
    result = await run.run(execution_id, plan, OLGA, progress)
    ended = time.monotonic()
    await progress.close()

    assert result.steps[0].results[0].status is TargetStatus.OK
    streamed = [e for _, e in shown if e.output]
    assert streamed, "no output was shown while the command ran"
    early = streamed[0]
    assert early.output_target == "loopback-2" and "line 1\n" in early.output
    assert "line 8" not in early.output, "the first update came only at the end"
    assert early.output_chars == len(early.output)
    times = [t for t, _ in shown]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= INTERVAL_S * 0.95 for gap in gaps), gaps  # at most one edit per interval
    assert len(shown) <= (ended - began) / INTERVAL_S + 1
    assert len(shown) >= 3


async def test_a_cancelled_run_stops_the_command_and_starts_no_further_step(
    shell: AsyncsshShell, canary: Path
) -> None:
    run = executor(shell)
    slow = f"(sleep 4; touch {canary}.child) & sleep 4; touch {canary}"
    execution_id, plan = await start(run, slow, f"touch {canary}.second")
    cancel = CancelRequest()
    task = asyncio.create_task(run.run(execution_id, plan, OLGA, cancel=cancel))
    assert await started(str(canary)), "the command never started"
    cancel.set("olga")
    result = await asyncio.wait_for(task, 15)

    first, second = (step.results[0] for step in result.steps)
    assert first.status is TargetStatus.FAILED and first.error == "cancelled by olga; it was stopped"
    assert second.status is TargetStatus.SKIPPED and second.error == "not started: cancelled by olga"
    assert running(str(canary)) == []
    await asyncio.sleep(4.5)
    assert files_left(canary, Path(f"{canary}.child"), Path(f"{canary}.second")) == []


async def test_the_requester_cancels_through_the_kernel_a_viewer_may_not(
    shell: AsyncsshShell, canary: Path
) -> None:
    chat = FakeChat(services={RemoteShell: shell})
    prompt = await chat.say(f'run "sleep 5; touch {canary}" on loopback-2')
    assert isinstance(prompt, ApprovalPrompt)
    running_run = asyncio.create_task(chat.click(prompt, "alan"))
    assert await started(str(canary)), "the approved command never started"

    refused = await chat.click(prompt, "vic", approve=False, action="cancel")
    assert refused.outcome == "refused" and "only the requester or an approver" in refused.summary
    asked = await chat.click(prompt, "olga", approve=False, action="cancel")
    assert asked.outcome == "answer" and asked.summary.startswith("Cancelling execution")
    again = await chat.click(prompt, "alan", approve=False, action="cancel")
    assert "being cancelled already" in again.summary

    reply = await asyncio.wait_for(running_run, 15)
    assert isinstance(reply, Reply)
    assert reply.summary.startswith("Cancelled by olga: commands still running were stopped")
    assert running(str(canary)) == []
    events = [r["event"] for r in chat.memory_audit.records]
    assert {"execution.cancel_requested", "execution.cancelled", "cancel.denied"} <= set(events)
    late = await chat.click(prompt, "olga", approve=False, action="cancel")
    assert "is not running" in late.summary
    await asyncio.sleep(5)
    assert files_left(canary) == []
