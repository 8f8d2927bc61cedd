"""What surrounds a request: a trailing comment on the target's state is accounted for (no asking
back), an amount is never a host or a place, social talk is no request, a host reported gone is
pinged, a singular reference matching two assets is asked back naming both, and a bare listing
asks for the inventory. Our own phrasings, on the reference inventory and two others."""

from __future__ import annotations

import pytest

from pipeline.contracts import Plan
from pipeline.planner import HybridPlanner
from tests.pipeline.planning import BLIND2, CAMPUS, REFERENCE, planners_fixture, policed

planners = planners_fixture({"reference": REFERENCE, "other": BLIND2, "campus": CAMPUS})


async def _plan(planners: dict[str, HybridPlanner], inventory: str, text: str) -> Plan:
    return await policed(planners[inventory], text)


REBOOT, CONTROL = "automation.reboot", "automation.service_control"


@pytest.mark.parametrize(
    ("inventory", "text", "tool", "target"),
    [
        ("reference", "reboot web-04 - it is frozen solid, nothing answers", REBOOT, "web-04"),
        ("reference", "restart gunicorn on api-01 because it is leaking memory", CONTROL, "api-01"),
        ("reference", "stop prometheus on mon-01 as it's hammering the disk", CONTROL, "mon-01"),
        ("other", "reboot pg-qa, it's wedged and nobody can log in", REBOOT, "pg-qa"),
        ("other", "restart kubelet on k8s-node-03 - it has been flapping all night", CONTROL, "k8s-node-03"),
    ],
)
async def test_a_trailing_comment_on_the_state_keeps_the_order_confident(
    planners: dict[str, HybridPlanner], inventory: str, text: str, tool: str, target: str
) -> None:
    plan = await _plan(planners, inventory, text)
    assert plan.outcome == "plan" and [(s.tool, s.target_names) for s in plan.steps] == [(tool, [target])]
    assert plan.requires_approval


@pytest.mark.parametrize(
    ("inventory", "text", "tool", "args"),
    [
        ("reference", "traceroute to api-02 and cap it at 18 hops", "network.traceroute", {"max_hops": 18}),
        ("reference", "ping db-01, send it 6 packets", "network.ping", {"count": 6}),
        ("other", "traceroute to jump-host, cap at 20 hops", "network.traceroute", {"max_hops": 20}),
        ("campus", "tracert wiki-01 - at most 11 hops", "network.traceroute", {"max_hops": 11}),
    ],
)
async def test_an_amount_with_its_unit_fills_the_slot_and_is_never_a_host(
    planners: dict[str, HybridPlanner], inventory: str, text: str, tool: str, args: dict[str, int]
) -> None:
    plan = await _plan(planners, inventory, text)
    assert plan.outcome == "plan" and [s.tool for s in plan.steps] == [tool]
    assert {k: plan.steps[0].args.get(k) for k in args} == args


@pytest.mark.parametrize(
    ("inventory", "text"),
    [
        ("reference", "anyone fancy a coffee?"),
        ("reference", "cheers folks, outage resolved"),
        ("other", "happy friday everyone"),
        ("other", "nice job everyone, we are done for today"),
        ("campus", "anybody up for pizza later?"),
    ],
)
async def test_social_talk_is_no_request(
    planners: dict[str, HybridPlanner], inventory: str, text: str
) -> None:
    plan = await _plan(planners, inventory, text)
    assert plan.outcome == "no_action" and not plan.steps


@pytest.mark.parametrize(
    ("inventory", "text", "target"),
    [
        ("reference", "fw-edge-01 has gone dark", "fw-edge-01"),
        ("other", "k8s-node-04 dropped off the network", "k8s-node-04"),
        ("campus", "radius-01 vanished from the monitoring", "radius-01"),
    ],
)
async def test_a_host_reported_gone_is_pinged(
    planners: dict[str, HybridPlanner], inventory: str, text: str, target: str
) -> None:
    plan = await _plan(planners, inventory, text)
    assert [(s.tool, s.target_names) for s in plan.steps] == [("network.ping", [target])]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("ping the core switch", ("core-sw-a", "core-sw-b")),
        ("is the core switch reachable?", ("core-sw-a", "core-sw-b")),
        ("reboot the domain controller", ("ad-dc-1", "ad-dc-2")),
    ],
)
async def test_a_singular_reference_to_two_assets_is_asked_back_naming_both(
    planners: dict[str, HybridPlanner], text: str, names: tuple[str, ...]
) -> None:
    plan = await _plan(planners, "campus", text)
    assert plan.outcome == "clarify" and not plan.steps
    assert all(name in plan.message for name in names)


@pytest.mark.parametrize(
    ("inventory", "text"), [("reference", "list assets"), ("campus", "list hosts please")]
)
async def test_a_bare_listing_asks_for_every_asset(
    planners: dict[str, HybridPlanner], inventory: str, text: str
) -> None:
    plan = await _plan(planners, inventory, text)
    every = {a.name for a in await planners[inventory].directory.snapshot()}
    assert [s.tool for s in plan.steps] == ["assets.query"]
    assert set(plan.steps[0].target_names) == every


@pytest.mark.parametrize(
    ("inventory", "text"),
    [("reference", "is there a server called web-04?"), ("other", "do we have a box named mail01?")],
)
async def test_a_naming_cue_takes_the_word_after_it_not_the_host_noun_before(
    planners: dict[str, HybridPlanner], inventory: str, text: str
) -> None:
    plan = await _plan(planners, inventory, text)
    assert "automation.process_list" not in [s.tool for s in plan.steps], plan.steps
    processes = await _plan(
        planners, inventory, "show processes named java on " + text.split()[-1].strip("?")
    )
    assert [(s.tool, s.args.get("match")) for s in processes.steps] == [("automation.process_list", "java")]
