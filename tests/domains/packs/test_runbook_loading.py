"""Runbook files: checked against the tools they call, risk at least theirs, arguments at plan time."""

from __future__ import annotations

from pathlib import Path

import pytest

from domains.catalog import build_registry
from domains.packs.loader import CatalogInvalid
from pipeline.contracts import AssetRef, PlanStep, Principal, Risk
from pipeline.errors import InvalidRequest
from pipeline.policy import Policy

RUNBOOK = """\
kind: runbook
name: web.bounce
description: Check, restart, check.
params:
  service: {type: string}
steps:
  - {id: before, tool: automation.service_status, args: {service: "{service}"}}
  - id: restart
    tool: automation.service_control
    args: {service: "{service}", action: restart}
    when: before.ok
rollback:
  - {tool: automation.service_control, args: {service: "{service}", action: start}}
"""
WEB = AssetRef(name="web-01", address="127.0.0.1")


def _load(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "runbook.yaml"
    path.write_text(text)
    return path


def test_a_runbook_is_one_tool_at_the_highest_risk_of_its_steps(tmp_path: Path) -> None:
    _load(tmp_path, RUNBOOK)
    spec = build_registry([tmp_path]).get("web.bounce")
    assert spec.risk is Risk.WRITE and spec.run_all is not None
    assert spec.calls == ("automation.service_status", "automation.service_control")
    with pytest.raises(
        InvalidRequest, match=r"step before: automation.service_status: service: .*not a valid"
    ):
        spec.parse_args({"service": "nginx; reboot"})  # the steps' own checks apply at plan time
    assert spec.outline is not None
    lines = spec.outline({"service": "nginx"}, (WEB,))
    assert (
        lines[0]
        == "runbook web.bounce: all targets at once; the rollout stops once more than 0 host(s) failed"
    )
    assert "step 2 restart: automation.service_control service=nginx action=restart [write]" in lines[3]


@pytest.mark.parametrize(
    "change,line,message",
    [
        (
            ("tool: automation.service_control\n", "tool: automation.service_kontrol\n"),
            9,
            "steps.1.tool: no tool named",
        ),
        (("params:", "risk: read\nparams:"), 4, "risk: its steps need write, more than read"),
        (("when: before.ok", "when: later.ok"), 11, "when: later is not an earlier step"),
        (
            ('{service: "{service}", action: start}', '{service: "{svc}"}'),
            13,
            "rollback.0.args: {svc} is not a parameter",
        ),
        (("when: before.ok", "when: before.ok or true"), 11, "when: write <step>.ok"),
    ],
)
def test_what_is_refused(tmp_path: Path, change: tuple[str, str], line: int, message: str) -> None:
    path = _load(tmp_path, RUNBOOK.replace(*change))
    with pytest.raises(CatalogInvalid) as caught:
        build_registry([tmp_path])
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in caught.value.problems), (
        caught.value.problems
    )


def test_policy_grants_every_tool_a_runbook_runs(tmp_path: Path) -> None:
    _load(tmp_path, RUNBOOK)
    registry = build_registry([tmp_path])
    policy = Policy.from_mapping(
        {
            "roles": {
                "web": {"grants": [{"tools": ["web.*", "automation.service_status"], "max_risk": "write"}]}
            }
        },
        registry,
    )
    step = PlanStep(id="s1", tool="web.bounce", risk=Risk.WRITE, targets=(WEB,), args={"service": "nginx"})
    denial = policy.step_denial(step, Principal(subject="w", roles=frozenset({"web"})))
    assert denial is not None and denial.startswith("web.bounce runs automation.service_control: ")
    assert (
        Policy.default(registry).step_denial(step, Principal(subject="o", roles=frozenset({"operator"})))
        is None
    )
