"""Undo over a real sshd, through the whole pipeline: a stop is undone by a start, planned from the
recorded change, approved, and run on the host again.

The testbed host has no systemd, so the service here is a stand-in service manager of this test's
own (`standin.service`: it writes the unit's state to a file over real SSH) declaring the same
undo as `automation.service_control` (stop <-> start); everything else is the real pipeline."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from domains.automation.ports import RemoteShell
from pipeline.contracts import ApprovalPrompt, AssetRef, Reply, Risk, TargetStatus, ToolOutput
from pipeline.registry import Call, ToolContext, ToolSet
from tests.fakes.chat import FakeChat
from tests.integration.sshd_testbed import SshdTestbed

pytestmark = pytest.mark.sshd

standin = ToolSet("standin")
STATE_DIR: list[Path] = []


class UnitArgs(BaseModel):
    unit: str
    action: Literal["start", "stop"]


def inverse(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    return Call(
        "standin.service", {"unit": args["unit"], "action": "start" if args["action"] == "stop" else "stop"}
    )


@standin.tool("standin.service", UnitArgs, risk=Risk.WRITE, timeout_s=20, undo=inverse)
async def service(ctx: ToolContext, target: AssetRef | None, args: UnitArgs) -> ToolOutput:
    """Start or stop a unit of the stand-in service manager (a state file on the host)."""
    assert target is not None
    state = shlex.quote(str(STATE_DIR[0] / f"{args.unit}.state"))
    word = {"start": "started", "stop": "stopped"}[args.action]
    shell = ctx.get(RemoteShell)  # type: ignore[type-abstract]
    result = await shell.run(target, f"echo {word} > {state} && cat {state}")
    return ToolOutput(summary=result.stdout.strip(), ok=result.ok, exit_code=result.exit_code)


async def test_undo_of_a_stop_starts_the_unit_again(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    STATE_DIR[:] = [tmp_path]
    state = tmp_path / "web.state"
    fake = FakeChat(services=services, toolsets=(standin,))
    prompt = await fake.say("standin.service loopback-2 unit=web action=stop", user="root")
    assert isinstance(prompt, ApprovalPrompt), prompt
    stopped = await fake.click(prompt, "alan")
    assert isinstance(stopped, Reply) and stopped.outcome == "answer"
    assert stopped.result is not None and stopped.result.steps[0].results[0].status is TargetStatus.OK
    assert state.read_text() == "stopped\n"  # written on the host over SSH
    assert stopped.undo is not None and stopped.undo.steps == (
        "standin.service unit=web action=start on loopback-2",
    )

    assert stopped.execution_id is not None
    stub = ApprovalPrompt.model_construct(execution_id=stopped.execution_id)
    undo = await fake.click(stub, "root", action="undo")
    assert isinstance(undo, ApprovalPrompt) and undo.plan.undo_of == stopped.execution_id
    assert state.read_text() == "stopped\n"  # nothing runs before the undo is approved
    started = await fake.click(undo, "alan")
    assert isinstance(started, Reply) and started.outcome == "answer", started
    assert state.read_text() == "started\n"
    events = [(r["event"], r["execution_id"]) for r in fake.memory_audit.records]
    assert ("approval.approved", undo.execution_id) in events
    assert ("execution.finished", undo.execution_id) in events
