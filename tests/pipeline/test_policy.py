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
    bomb = tmp_path / "bomb.yaml"  # anchors and aliases within limits, or one line
    bomb.write_text(
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)
        )
        + "roles: *h\n"
    )
    with pytest.raises(InvalidRequest, match=r"bomb.yaml: refused: the aliases expand to more than"):
        Policy.from_file(bomb)
    big = tmp_path / "big.yaml"
    big.write_text("roles: {}\n" + "#" * (11 * 1024 * 1024))
    with pytest.raises(InvalidRequest, match=r"big.yaml: larger than the 10 MiB limit"):
        Policy.from_file(big)


# --------------------------------------------------------------------------- paths, addresses, limits


def read_step(path: str, target: AssetRef = WEB) -> PlanStep:
    return PlanStep(
        id="s1", tool="automation.read_file", args={"path": path, "tail_lines": 10}, targets=(target,)
    )


@pytest.mark.parametrize(
    ("path", "denied"),
    [
        ("/var/log/nginx/error.log", None),
        ("/etc/nginx/nginx.conf", None),
        ("/etc/shadow", "shadow-files"),
        ("/etc//./shadow", "shadow-files"),
        ("/tmp/../etc/gshadow", "shadow-files"),
        ("/etc/ssh/ssh_host_rsa_key", "ssh-private-keys"),
        ("/etc/ssh/ssh_host_rsa_key.pub", None),
        ("/opt/app/tls/server.key", "tls-private-keys"),
        ("/opt/app/store.p12", "tls-private-keys"),
        ("/home/bob/.aws/credentials", "credential-stores"),
        ("/proc/self/environ", "process-environment"),
        ("relative/path.log", "not absolute"),
    ],
)
def test_the_default_path_rules(path: str, denied: str | None) -> None:
    denial = POLICY.step_denial(read_step(path), who("viewer"))
    assert denial is None if denied is None else denied in (denial or "")


def test_a_path_parameter_of_any_tool_is_covered_by_its_declared_kind() -> None:
    """Not by tool name: a new tool whose parameter is a RemotePath gets the same rules."""
    from pydantic import BaseModel

    from pipeline.contracts import ToolOutput
    from pipeline.params import RemotePath
    from pipeline.registry import ToolContext, ToolRegistry, ToolSet

    files = ToolSet("files")

    class CopyArgs(BaseModel):
        sources: list[RemotePath]

    @files.tool("files.bundle", CopyArgs, risk=Risk.READ)
    async def bundle(ctx: ToolContext, target: AssetRef | None, args: CopyArgs) -> ToolOutput:
        """Bundle files."""
        return ToolOutput()

    policy = Policy.default(ToolRegistry([files]))
    step = PlanStep(
        id="s1", tool="files.bundle", args={"sources": ["/tmp/a", "/root/.netrc"]}, targets=(WEB,)
    )
    assert "files.bundle sources: /root/.netrc is denied by path rule credential-stores" in (
        policy.step_denial(step, who("viewer")) or ""
    )


def test_role_path_allow_deny_and_exempt() -> None:
    raw = {
        "roles": {
            "reader": {
                "grants": [{"tools": ["automation.read_file"]}],
                "paths": {"allow": ["/var/log/**"], "deny": ["/var/log/secure*"]},
            },
            "auditor": {
                "grants": [{"tools": ["automation.read_file"]}],
                "paths": {"exempt": ["shadow-files"]},
            },
        }
    }
    policy = Policy.from_mapping(raw, REGISTRY)
    reader, auditor = who("reader"), who("auditor")
    assert policy.step_denial(read_step("/var/log/syslog"), reader) is None
    assert "roles.reader.paths.deny" in (policy.step_denial(read_step("/var/log/secure.1"), reader) or "")
    assert "roles.reader.paths.allow" in (policy.step_denial(read_step("/etc/hosts"), reader) or "")
    assert policy.step_denial(read_step("/etc/shadow"), auditor) is None
    assert "ssh-private-keys" in (policy.step_denial(read_step("/root/.ssh/id_rsa"), auditor) or "")
    assert policy.step_denial(read_step("/etc/shadow"), who("reader", "auditor")) is None  # one role suffices


def test_a_policy_file_without_the_new_sections_gets_the_defaults() -> None:
    policy = Policy.from_mapping({"roles": {"viewer": {"grants": [{"tools": ["*"]}]}}}, REGISTRY)
    assert "shadow-files" in (policy.step_denial(read_step("/etc/shadow"), who("viewer")) or "")
    ping = PlanStep(id="s1", tool="network.ping", targets=(AssetRef.raw("10.0.0.1"),))
    assert "may target inventory hosts only" in (policy.step_denial(ping, who("viewer")) or "")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"roles": {"x": {"addresses": ["10.0.0.0/33"]}}}, "roles.x.addresses"),
        ({"roles": {"x": {"paths": {"exempt": ["nope"]}}}}, "unknown rules: nope"),
        ({"roles": {"x": {"limits": {"targets": 0}}}}, "roles.x.limits.targets"),
    ],
)
def test_bad_policy_sections_are_refused_with_their_place(raw: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message.replace(".", r"\.")):
        Policy.from_mapping(raw, REGISTRY)


def test_the_running_tool_asks_again_about_what_it_resolved() -> None:
    guard = POLICY.guard(read_step("/tmp/notes.txt"), who("viewer"))
    guard.check_path("/tmp/notes.txt")
    with pytest.raises(NotPermitted, match="path rule shadow-files"):
        guard.check_path("/etc/shadow")
    raw = AssetRef.raw("metadata.internal")
    ping = PlanStep(id="s1", tool="network.ping", targets=(raw,))
    POLICY.guard(ping, who("operator")).check_address(raw, "127.0.0.1")
    with pytest.raises(NotPermitted, match=r"resolves to 169\.254\.169\.254.*cloud-metadata"):
        POLICY.guard(ping, who("operator")).check_address(raw, "169.254.169.254")
    POLICY.guard(ping, who("viewer")).check_address(WEB, "169.254.169.254")  # inventory: not a raw target


def test_grant_globs_exclude_with_a_bang() -> None:
    policy = Policy.from_mapping(
        {"roles": {"ops": {"grants": [{"tools": ["*", "!assets.*", "!*.reboot"], "max_risk": "critical"}]}}},
        REGISTRY,
    )
    ops = who("ops")
    allowed = policy.permitted_tools(ops)
    assert "automation.service_control" in allowed and "network.ping" in allowed
    assert not {"assets.query", "assets.delete", "automation.reboot"} & allowed
    assert policy.step_denial(plan_of("assets.query").steps[0], ops) is not None
