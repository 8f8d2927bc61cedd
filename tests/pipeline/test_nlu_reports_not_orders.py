"""Reports are not orders: a change someone narrates ('we bounced redis an hour ago, is it back?')
or trouble someone reports ('kubelet is broken, we are getting errors') plans the matching read,
never the change; a report's bare amounts ('getting 502s') fill no argument; a tool declared for
one system is never a reading for hosts of another. Checked with the shipped packs loaded (as the
bot runs), on the reference inventory and on a second one with other names."""

from __future__ import annotations

import pytest

from pipeline.contracts import Plan, Risk
from pipeline.planner import HybridPlanner
from pipeline.registry import ToolRegistry
from tests.pipeline.planning import BLIND2, REFERENCE, planners_fixture, policed

planners = planners_fixture({"reference": REFERENCE, "other": BLIND2})


@pytest.fixture(scope="module")
def registry(planners: dict[str, HybridPlanner]) -> ToolRegistry:
    return planners["reference"].registry


async def _plan(
    planners: dict[str, HybridPlanner], registry: ToolRegistry, inventory: str, text: str
) -> Plan:
    return await policed(planners[inventory], text)


STATUS, FACTS = "automation.service_status", "automation.system_info"


@pytest.mark.parametrize(
    ("inventory", "text", "read", "target"),
    [
        ("reference", "somebody bounced redis on cache-01 earlier, is it up now?", STATUS, "cache-01"),
        ("reference", "I rebooted db-01 ten minutes ago - is it responding?", FACTS, "db-01"),
        ("reference", "we restarted gunicorn on api-02 just now; did it come back?", STATUS, "api-02"),
        ("reference", "my colleague stopped prometheus on mon-01 today, still down?", STATUS, "mon-01"),
        ("other", "someone cycled haproxy on lb-ams-1 a moment ago, healthy again?", STATUS, "lb-ams-1"),
        ("other", "they rebooted pg-qa about an hour ago, is it back?", FACTS, "pg-qa"),
        ("other", "I restarted postfix on mail01 after lunch - running now?", STATUS, "mail01"),
        # a question opening with has/have/had: its auxiliary is no 'hosts having <service>', so the
        # named host is read, not every host running the service
        ("reference", "has gunicorn on api-01 been bounced since lunch?", STATUS, "api-01"),
        ("reference", "have they restarted redis on cache-01 today?", STATUS, "cache-01"),
        ("reference", "ok thanks. has postgresql been restarted on db-02 this week?", STATUS, "db-02"),
        ("other", "has haproxy on lb-sin-1 been restarted recently?", STATUS, "lb-sin-1"),
        ("other", "has kubelet been cycled on k8s-node-02 since the upgrade?", STATUS, "k8s-node-02"),
        ("other", "had pg-qa been rebooted before the outage?", FACTS, "pg-qa"),
    ],
)
async def test_a_narrated_change_then_a_question_reads_the_state(
    planners: dict[str, HybridPlanner],
    registry: ToolRegistry,
    inventory: str,
    text: str,
    read: str,
    target: str,
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    assert plan.outcome == "plan" and [(s.tool, s.target_names) for s in plan.steps] == [(read, [target])]
    assert plan.risk is Risk.READ and not plan.requires_approval


@pytest.mark.parametrize(
    ("inventory", "text", "service", "target"),
    [
        ("reference", "redis on cache-01 is broken, we are getting errors", "redis", "cache-01"),
        ("reference", "nginx on web-02 seems down and the shop is throwing 503s", "nginx", "web-02"),
        ("reference", "gunicorn on api-01 looks dead, users are seeing 500s", "gunicorn", "api-01"),
        ("reference", "nginx on web-03 keeps returning 504s", "nginx", "web-03"),
        ("other", "kubelet on k8s-node-02 is flapping, we are seeing timeouts", "kubelet", "k8s-node-02"),
        ("other", "haproxy on lb-sin-1 seems down - clients getting 502s", "haproxy", "lb-sin-1"),
        ("other", "nginx on web-qa-1 is misbehaving, testers get 404s", "nginx", "web-qa-1"),
    ],
)
async def test_reported_trouble_reads_the_service_and_binds_no_amount(
    planners: dict[str, HybridPlanner],
    registry: ToolRegistry,
    inventory: str,
    text: str,
    service: str,
    target: str,
) -> None:
    plan = await _plan(planners, registry, inventory, text)
    assert [(s.tool, s.target_names, s.args) for s in plan.steps] == [
        ("automation.service_status", [target], {"service": service})
    ]
    assert not plan.requires_approval


def test_a_catalog_tool_declared_for_windows_runs_on_windows_only(registry: ToolRegistry) -> None:
    windows_only = registry.get("windows.service_restart")
    assert windows_only is not None and windows_only.platforms == frozenset({"windows"})
    assert windows_only.runs_on("Windows") and not windows_only.runs_on("linux")
    everywhere = registry.get("automation.service_control")
    assert everywhere is not None and everywhere.runs_on("linux") and everywhere.runs_on("windows")


@pytest.mark.parametrize(
    ("inventory", "text", "linux"),
    [
        ("reference", "nginx on web-01, 90s", "web-01"),
        ("reference", "gunicorn api-02 2 minutes", "api-02"),
        ("other", "postfix on mail01 for 45s", "mail01"),
    ],
)
async def test_a_windows_tool_is_never_a_reading_for_a_linux_host(
    planners: dict[str, HybridPlanner], registry: ToolRegistry, inventory: str, text: str, linux: str
) -> None:
    """A service and a duration are exactly what the Windows restart pack takes: on a Linux host
    that pack is no reading at all (neither planned nor offered as a choice)."""
    understanding = planners[inventory].grammar.understand(
        text, await planners[inventory].directory.snapshot()
    )
    offered = [c.tool for c in understanding.calls] + [
        a for a in understanding.interpretation.entities.get("alternatives", []) if isinstance(a, str)
    ]
    assert offered and not any("windows." in o for o in offered), offered
    assert all(linux in c.targets for c in understanding.calls)
