"""The console's approval prompt: the whole plan, every argument whole, and its digest."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

from rich.console import Console

from adapters.console.render import as_json, print_response
from pipeline.contracts import ApprovalPrompt, AssetRef, Plan, PlanStep, Risk, short_digest
from tests.fakes.probe_tools import TAIL, long_command


def test_a_long_command_is_printed_whole_with_the_plan_digest() -> None:
    command = long_command(6_000)
    step = PlanStep(
        id="s1",
        tool="automation.run_command",
        args={"command": command, "timeout_s": 60},
        targets=(AssetRef(name="web-01", address="192.0.2.11"),),
        risk=Risk.CRITICAL,
    )
    plan = Plan(steps=(step,), requires_approval=True, four_eyes=True)
    prompt = ApprovalPrompt(
        execution_id="e1",
        plan=plan,
        requester="alice",
        requester_name="Alice",
        risk=Risk.CRITICAL,
        four_eyes=True,
        expires_at=datetime(2027, 1, 1, 12, 0, tzinfo=UTC),
        summary="This plan needs approval before it runs (a second person must approve).",
        digest=plan.digest(),
    )
    out = StringIO()
    print_response(Console(file=out, width=400, color_system=None), prompt)
    shown = out.getvalue()
    lines = [line.strip().strip("│").strip() for line in shown.splitlines()]
    printed = "\n".join(line.removeprefix("| ") for line in lines if line.startswith("| "))
    assert printed == command and printed.endswith(TAIL)
    assert f"plan {short_digest(plan.digest())}" in shown and "web-01 (192.0.2.11)" in shown
    assert as_json(prompt)["plan_digest"] == plan.digest()
