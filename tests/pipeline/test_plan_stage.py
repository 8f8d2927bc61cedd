"""Stage C trusts nothing: unknown tools, targets and bad args become questions, never guesses."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from domains.catalog import build_registry
from pipeline.contracts import (
    AssetFilter,
    AssetRef,
    Intent,
    Interpretation,
    Principal,
    Risk,
    ToolCall,
    ToolOutput,
    Understanding,
)
from pipeline.policy import Policy
from pipeline.registry import ToolContext, ToolRegistry, ToolSet
from pipeline.stages.plan import build_plan

ASSETS = (
    AssetRef(
        name="web-01", address="192.0.2.11", type="web_server", environment="production", location="paris"
    ),
    AssetRef(
        name="web-02", address="192.0.2.12", type="web_server", environment="production", location="oslo"
    ),
    AssetRef(
        name="db-01",
        address="192.0.2.31",
        type="db_server",
        environment="qa",
        location="oslo",
        tags={"team": "data"},
        services=("postgresql",),
    ),
)


@pytest.fixture(scope="module")
def registry() -> ToolRegistry:
    return build_registry()


def understanding(*calls: ToolCall) -> Understanding:
    return Understanding(interpretation=Interpretation(intent=Intent.ACTION, source="llm"), calls=calls)


def call(
    tool: str, targets: tuple[str, ...] = (), selector: AssetFilter | None = None, **args: Any
) -> ToolCall:
    return ToolCall(tool=tool, args=args, targets=targets, selector=selector)


def test_resolves_names_addresses_and_selectors_in_order(registry: ToolRegistry) -> None:
    plan = build_plan(
        understanding(
            call("network.ping", ("WEB-02", "192.0.2.11")),
            call(
                "automation.service_status",
                selector=AssetFilter(services=("postgresql",)),
                service="postgresql",
            ),
        ),
        registry,
        ASSETS,
    )
    assert plan.outcome == "plan"
    first, second = plan.steps
    assert (first.id, first.target_names, first.depends_on) == ("s1", ["web-02", "web-01"], ())
    assert (second.id, second.target_names, second.depends_on) == ("s2", ["db-01"], ("s1",))
    assert first.risk is Risk.READ and first.timeout_s == registry.get("network.ping").timeout_s


def test_selector_exclusions_apply(registry: ToolRegistry) -> None:
    selector = AssetFilter(types=("web_server",), exclude=("web-02",))
    plan = build_plan(understanding(call("network.ping", selector=selector)), registry, ASSETS)
    assert plan.steps[0].target_names == ["web-01"]


def test_unknown_tool_is_clarified(registry: ToolRegistry) -> None:
    plan = build_plan(understanding(call("automation.format_disk", ("web-01",))), registry, ASSETS)
    assert plan.outcome == "clarify" and "format_disk" in plan.message and not plan.steps


def test_invented_host_is_clarified_by_name(registry: ToolRegistry) -> None:
    plan = build_plan(understanding(call("network.ping", ("web-01", "web-99"))), registry, ASSETS)
    assert plan.outcome == "clarify" and "web-99" in plan.message


def test_raw_addresses_only_for_network_tools(registry: ToolRegistry) -> None:
    ping = build_plan(understanding(call("network.ping", ("10.20.30.40",))), registry, ASSETS)
    assert ping.steps[0].target_names == ["10.20.30.40"]
    assert not ping.steps[0].targets[0].in_inventory
    reboot = build_plan(understanding(call("automation.reboot", ("10.20.30.40",))), registry, ASSETS)
    assert reboot.outcome == "clarify"


class ProbeArgs(BaseModel):
    pass


async def probe(ctx: ToolContext, target: AssetRef | None, args: BaseModel) -> ToolOutput:
    """A probe defined beside the built-in tools."""
    return ToolOutput(summary="")


def test_raw_addresses_go_to_the_tools_that_declare_them() -> None:
    probes = ToolSet("probes")
    probes.tool("probes.reach", ProbeArgs, risk=Risk.READ, addresses=True)(probe)
    probes.tool("probes.inventoried", ProbeArgs, risk=Risk.READ)(probe)
    registry = ToolRegistry([probes])
    reach = build_plan(understanding(call("probes.reach", ("10.20.30.40",))), registry, ASSETS)
    assert reach.steps[0].target_names == ["10.20.30.40"]
    inventoried = build_plan(understanding(call("probes.inventoried", ("10.20.30.40",))), registry, ASSETS)
    assert inventoried.outcome == "clarify" and "10.20.30.40" in inventoried.message


SPELLINGS_OF_METADATA = [
    "2852039166",  # decimal
    "0xa9fea9fe",  # hex
    "0251.0376.0251.0376",  # octal dotted
    "0xa9.0xfe.0xa9.0xfe",  # hex dotted
    "169.254.43518",  # a.b.c with c as 16 bits
    "::ffff:169.254.169.254",  # IPv4-mapped IPv6
    "64:ff9b::a9fe:a9fe",  # NAT64
]


@pytest.mark.parametrize("written", SPELLINGS_OF_METADATA)
def test_a_raw_address_in_any_spelling_is_the_address_it_denotes(
    registry: ToolRegistry, written: str
) -> None:
    plan = build_plan(understanding(call("network.ping", (written,))), registry, ASSETS)
    [target] = plan.steps[0].targets
    assert (target.name, target.address, target.in_inventory) == (written, "169.254.169.254", False)
    policy = Policy.default(registry)
    admin = Principal(subject="root", roles=frozenset({"admin"}))
    denial = policy.step_denial(plan.steps[0], admin)
    assert denial is not None and "169.254.169.254 is in the restricted range cloud-metadata" in denial


def test_out_of_range_args_are_clarified_with_the_validation_message(registry: ToolRegistry) -> None:
    plan = build_plan(understanding(call("network.port_scan", ("web-01",), ports=[70000])), registry, ASSETS)
    assert plan.outcome == "clarify" and "ports" in plan.message
    bad_action = build_plan(
        understanding(call("automation.service_control", ("web-01",), service="nginx", action="explode")),
        registry,
        ASSETS,
    )
    assert bad_action.outcome == "clarify"


def test_targetless_tools_drop_targets(registry: ToolRegistry) -> None:
    plan = build_plan(understanding(call("communication.list_templates", ("web-01",))), registry, ASSETS)
    assert plan.steps[0].targets == ()


def test_a_tool_that_may_run_untargeted_keeps_the_hosts_it_was_given(registry: ToolRegistry) -> None:
    """network.dns_lookup asks its targets (nameservers) when given some, else the bot's resolver."""
    asked = build_plan(
        understanding(call("network.dns_lookup", ("web-01",), name="example.org")), registry, ASSETS
    )
    assert [a.name for a in asked.steps[0].targets] == ["web-01"] and asked.steps[0].args[
        "record_type"
    ] == "A"
    alone = build_plan(understanding(call("network.dns_lookup", name="example.org")), registry, ASSETS)
    assert alone.outcome == "plan" and alone.steps[0].targets == ()


def test_empty_selection_is_clarified(registry: ToolRegistry) -> None:
    plan = build_plan(
        understanding(call("network.ping", selector=AssetFilter(locations=("tokyo",)))), registry, ASSETS
    )
    assert plan.outcome == "clarify" and "tokyo" in plan.message


def test_targeted_tool_without_targets_is_clarified(registry: ToolRegistry) -> None:
    assert build_plan(understanding(call("automation.reboot")), registry, ASSETS).outcome == "clarify"


def test_non_plan_outcomes_pass_through(registry: ToolRegistry) -> None:
    answer = Understanding(
        interpretation=Interpretation(intent=Intent.CHAT), outcome="no_action", message="hello", llm_calls=1
    )
    plan = build_plan(answer, registry, ASSETS)
    assert (plan.outcome, plan.message, plan.llm_calls, plan.steps) == ("no_action", "hello", 1, ())


def test_too_many_steps_is_clarified(registry: ToolRegistry) -> None:
    calls = tuple(call("network.ping", ("web-01",)) for _ in range(25))
    assert build_plan(understanding(*calls), registry, ASSETS).outcome == "clarify"


def test_an_inventory_question_may_match_nothing(registry: ToolRegistry) -> None:
    selector = AssetFilter(environments=("qa",), types=("web_server",))
    plan = build_plan(understanding(call("assets.query", selector=selector)), registry, ASSETS)
    assert plan.outcome == "plan" and plan.steps[0].targets == ()
