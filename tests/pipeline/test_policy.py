"""Policy: every role x risk, scoped grants, approval rules and approver checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from domains.catalog import build_registry
from pipeline.contracts import AssetRef, Plan, PlanStep, Principal, Risk
from pipeline.errors import InvalidRequest, NotPermitted
from pipeline.policy import Policy

REGISTRY = build_registry()
POLICY = Policy.default(REGISTRY)
WEB = AssetRef(name="web-01", address="127.0.0.1", environment="production", location="frankfurt")
STG = AssetRef(name="web-04", address="127.0.0.4", environment="staging", location="frankfurt")
TOOL_BY_RISK = {
    Risk.READ: "automation.service_status",
    Risk.WRITE: "automation.service_control",
    Risk.CRITICAL: "automation.reboot",
}


def who(*roles: str, subject: str = "alice") -> Principal:
    return Principal(subject=subject, roles=frozenset(roles))


def plan_of(tool: str, *targets: AssetRef) -> Plan:
    spec = REGISTRY.get(tool)
    return Plan(steps=(PlanStep(id="s1", tool=tool, risk=spec.risk, targets=targets),))


EXPECTED = {
    # role: {risk: (refused, requires_approval, four_eyes)}
    "viewer": {Risk.READ: (False, False, False), Risk.WRITE: (True,), Risk.CRITICAL: (True,)},
    "operator": {
        Risk.READ: (False, False, False),
        Risk.WRITE: (False, True, False),
        Risk.CRITICAL: (False, True, True),
    },
    "approver": {Risk.READ: (False, False, False), Risk.WRITE: (True,), Risk.CRITICAL: (True,)},
    "admin": {
        Risk.READ: (False, False, False),
        Risk.WRITE: (False, True, False),
        Risk.CRITICAL: (False, True, True),
    },
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
@pytest.mark.parametrize("risk", list(Risk))
def test_every_role_and_risk(role: str, risk: Risk) -> None:
    plan = POLICY.apply(plan_of(TOOL_BY_RISK[risk], WEB), who(role))
    expected = EXPECTED[role][risk]
    assert (plan.outcome == "refused") is expected[0]
    if not expected[0]:
        assert (plan.requires_approval, plan.four_eyes) == expected[1:]
    else:
        assert TOOL_BY_RISK[risk] in plan.message


def test_asset_management_is_for_admins_only() -> None:
    assert POLICY.apply(plan_of("assets.delete", WEB), who("operator")).outcome == "refused"
    assert POLICY.apply(plan_of("assets.delete", WEB), who("admin")).outcome == "plan"
    assert "assets.create" not in POLICY.permitted_tools(who("operator"))
    assert "assets.query" in POLICY.permitted_tools(who("operator"))


def test_permitted_tools_follow_risk() -> None:
    viewer = POLICY.permitted_tools(who("viewer"))
    assert "network.ping" in viewer
    assert not viewer & {"automation.service_control", "automation.run_command", "automation.reboot"}
    assert "automation.run_command" in POLICY.permitted_tools(who("operator"))
    assert POLICY.permitted_tools(who()) == set()


SCOPED = {
    "roles": {
        "operator": {
            "grants": [
                {"tools": ["*"], "max_risk": "read"},
                {
                    "tools": ["automation.service_control"],
                    "max_risk": "write",
                    "scope": {"environments": ["staging"]},
                },
            ],
        },
        "admin": {"grants": [{"tools": ["*"], "max_risk": "critical"}], "approves": ["write", "critical"]},
    }
}


def test_scoped_grant_allows_only_inside_scope() -> None:
    policy = Policy.from_mapping(SCOPED, REGISTRY)
    assert policy.apply(plan_of("automation.service_control", STG), who("operator")).outcome == "plan"
    refused = policy.apply(plan_of("automation.service_control", WEB, STG), who("operator"))
    assert refused.outcome == "refused"
    assert "environment staging" in refused.message
    assert "web-01" not in refused.message  # a denial does not list what exists
    assert policy.apply(plan_of("automation.service_control", WEB), who("admin")).outcome == "plan"


def test_executor_recheck_raises() -> None:
    step = plan_of("automation.reboot", WEB).steps[0]
    with pytest.raises(NotPermitted):
        POLICY.check_step(step, who("viewer"))
    POLICY.check_step(step, who("operator"))


def test_approval_rules() -> None:
    critical = POLICY.apply(plan_of("automation.reboot", WEB), who("operator"))
    write = POLICY.apply(plan_of("automation.service_control", WEB), who("operator"))
    assert POLICY.approval_denial(critical, who("approver", subject="bob"), "alice") is None
    own = POLICY.approval_denial(critical, who("operator", "approver", subject="alice"), "alice")
    assert own is not None and "second person" in own
    assert POLICY.approval_denial(write, who("operator", "approver", subject="alice"), "alice") is None
    assert POLICY.approval_denial(write, who("operator", subject="carol"), "alice") is not None
    assert POLICY.approval_denial(write, who("viewer", subject="carol"), "alice") is not None


def test_non_plans_pass_through() -> None:
    plan = Plan(outcome="clarify", message="which host?")
    assert POLICY.apply(plan, who("viewer")) == plan


def test_bad_policy_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("roles:\n  viewer:\n    grants:\n      - {tools: [x], max_risk: extreme}\n")
    with pytest.raises(InvalidRequest, match="max_risk"):
        Policy.from_file(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("roles: [\n")
    with pytest.raises(InvalidRequest, match=r"broken.yaml:\d+"):
        Policy.from_file(broken)
