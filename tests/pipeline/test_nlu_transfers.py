"""File transfers as people write them: a copy's roles (source host, destination host, the path
there, the same path when none is given), fetching (a transfer someone asks for) against reading
(showing a file), byte caps with units, and ties no declaration order decides."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from bot.evaluation import load_directory
from domains.automation.fileargs import CopyFileArgs
from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.nlu.sizes import sizes
from pipeline.phrasing import Phrasing
from pipeline.planner import HybridPlanner
from pipeline.registry import ToolContext, ToolRegistry, ToolSet
from tests.pipeline.planning import ALT, OPERATOR, REFERENCE, only, planner_fixture

reference = planner_fixture(REFERENCE)
other = planner_fixture(ALT)  # another company: app-eu-7, pg-main, ...


@pytest.mark.parametrize(
    ("text", "source", "to", "to_path"),
    [
        (
            "copy /etc/ssh/sshd_config from web-03 to web-04, same path",
            "web-03",
            "web-04",
            "/etc/ssh/sshd_config",
        ),
        ("copy /etc/motd from api-01 to api-02 to the same place", "api-01", "api-02", "/etc/motd"),
        ("copy /etc/motd from api-01 to /srv/motd.bak on cache-01", "api-01", "cache-01", "/srv/motd.bak"),
        (
            "please duplicate /opt/app/env from db-01 onto db-02 as /opt/app/env.prod",
            "db-01",
            "db-02",
            "/opt/app/env.prod",
        ),
        ("copy /etc/resolv.conf over to web-02 from web-01", "web-01", "web-02", "/etc/resolv.conf"),
        # 'from web-01 to web-03' would be a range for most tools: a copy reads source and destination
        ("copy /etc/hosts from web-01 to web-03", "web-01", "web-03", "/etc/hosts"),
    ],
)
async def test_a_copy_between_two_hosts_has_a_source_and_a_destination(
    reference: HybridPlanner, text: str, source: str, to: str, to_path: str
) -> None:
    tool, targets, args = only(await reference.plan(text, OPERATOR))
    assert (tool, targets, args["to"], args["to_path"]) == ("automation.copy_file", [source], to, to_path)


@pytest.mark.parametrize(
    ("text", "source", "to", "to_path"),
    [
        ("copy /etc/haproxy/haproxy.cfg from app-eu-7 to app-eu-8, keep the path", "app-eu-7", "app-eu-8",
         "/etc/haproxy/haproxy.cfg"),
        ("copy /srv/search.yml from app-us-3 to /srv/search.yml.new on app-qa-1", "app-us-3", "app-qa-1",
         "/srv/search.yml.new"),
    ],
)  # fmt: skip
async def test_a_copy_reads_the_same_on_another_inventory(
    other: HybridPlanner, text: str, source: str, to: str, to_path: str
) -> None:
    tool, targets, args = only(await other.plan(text, OPERATOR))
    assert (tool, targets, args["to"], args["to_path"]) == ("automation.copy_file", [source], to, to_path)


async def test_a_range_is_still_a_range_for_tools_without_a_destination(reference: HybridPlanner) -> None:
    tool, targets, _ = only(await reference.plan("restart nginx from web-01 to web-03", OPERATOR))
    assert (tool, targets) == ("automation.service_control", ["web-01", "web-02", "web-03"])


def test_the_destination_path_defaults_to_the_source_path() -> None:
    assert CopyFileArgs(path="/etc/hosts", to="web-02").to_path == "/etc/hosts"
    assert CopyFileArgs(path="/etc/hosts", to="web-02", to_path="/tmp/h").to_path == "/tmp/h"
    with pytest.raises(ValueError, match="absolute"):
        CopyFileArgs(path="/etc/hosts", to="web-02", to_path="relative/h")


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("download /var/log/auth.log from web-02", "automation.fetch_file"),
        ("attach /etc/nginx/nginx.conf from web-03 to this thread", "automation.fetch_file"),
        ("grab a copy of /etc/fstab from db-02", "automation.fetch_file"),
        ("send me /etc/os-release from api-02", "automation.fetch_file"),
        ("look at /etc/fstab on db-02", "automation.read_file"),
        ("display /etc/os-release on api-02", "automation.read_file"),
        ("tail /var/log/auth.log on web-02", "automation.read_file"),
        ("what's in /etc/hosts.allow on web-03", "automation.read_file"),
        ("/etc/fstab on db-02 please", "automation.read_file"),  # a path alone is shown, not sent
    ],
)
async def test_fetching_needs_a_transfer_and_showing_reads(
    reference: HybridPlanner, text: str, tool: str
) -> None:
    assert only(await reference.plan(text, OPERATOR))[0] == tool


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ("download /var/log/messages from pg-replica", "automation.fetch_file"),
        ("look at /var/log/messages on pg-replica", "automation.read_file"),
    ],
)
async def test_fetch_or_read_on_another_inventory(other: HybridPlanner, text: str, tool: str) -> None:
    assert only(await other.plan(text, OPERATOR))[0] == tool


@pytest.mark.parametrize(
    ("text", "cap"),
    [
        ("download the first 8192 bytes of /var/log/auth.log from web-02", 8192),
        ("fetch /var/log/auth.log from web-02 but only 4 KB", 4096),
        ("download /var/log/auth.log from web-02, up to 2 MiB", 2 * 1024 * 1024),
        ("download /var/log/auth.log from web-02 max 64kb", 64 * 1024),
        ("fetch /var/log/auth.log from web-02, at most 300", 300),  # a bare number after its own cue
    ],
)
async def test_a_byte_cap_is_read_in_bytes(reference: HybridPlanner, text: str, cap: int) -> None:
    tool, _, args = only(await reference.plan(text, OPERATOR))
    assert (tool, args["max_bytes"]) == ("automation.fetch_file", cap)


def test_sizes_need_a_unit() -> None:
    written = ["512b", "or", "1.5", "mb", "or", "3", "gigabytes"]
    assert [s.bytes for s in sizes(written)] == [512, 1572864, 3 * 1024**3]
    assert sizes(["ping", "web-01", "3", "times", "2", "k"]) == []


class _Args(BaseModel):
    pass


async def _nothing(ctx: ToolContext, target: AssetRef | None, args: _Args) -> ToolOutput:
    return ToolOutput(summary="")


def _twins(first: str, second: str) -> ToolRegistry:
    toolset = ToolSet("gadget")
    for name in (first, second):
        toolset.tool(name, _Args, risk=Risk.READ, phrasing=Phrasing(objects=("widget report",)))(_nothing)
    return ToolRegistry([toolset])


@pytest.mark.parametrize("names", [("gadget.alpha", "gadget.omega"), ("gadget.omega", "gadget.alpha")])
async def test_a_tie_is_asked_never_broken_by_declaration_order(names: tuple[str, str]) -> None:
    planner = HybridPlanner(_twins(*names), load_directory(REFERENCE))
    plan = await planner.plan("widget report for web-01", OPERATOR)
    assert plan.outcome == "clarify" and not plan.steps
    assert "gadget.alpha" in plan.message and "gadget.omega" in plan.message
