"""Answers read the tools' own data: a disk fact from the automation domain's parser gives the
"almost full" hint at 90 % and above, and nothing below."""

from __future__ import annotations

from domains.automation.facts import disk_fact
from pipeline.contracts import (
    ExecutionResult,
    Plan,
    PlanStep,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.stages.answer import result_reply


def reply_for(*disks: dict[str, object]) -> tuple[str, ...]:
    step = PlanStep(id="s1", tool="automation.system_info", risk=Risk.READ)
    output = ToolOutput(summary="facts", data={"disk": list(disks)})
    result = StepResult(
        step_id="s1",
        tool=step.tool,
        results=(TargetResult(target="db-01", status=TargetStatus.OK, output=output),),
    )
    done = ExecutionResult(execution_id="e", status="succeeded", steps=(result,))
    return result_reply(Plan(steps=(step,)), done).recommendations


def test_a_nearly_full_disk_is_named_with_its_mount() -> None:
    full = disk_fact("/var", "/dev/sda2", 100_000, 93_000, 7_000)
    roomy = disk_fact("/", "/dev/sda1", 100_000, 40_000, 60_000)
    hints = [r for r in reply_for(full, roomy) if "full" in r]
    assert hints == ["db-01: /var is 93% full; free space soon."]


def test_no_hint_below_the_threshold() -> None:
    assert not [r for r in reply_for(disk_fact("/", "/dev/sda1", 100_000, 89_000, 11_000)) if "full" in r]
