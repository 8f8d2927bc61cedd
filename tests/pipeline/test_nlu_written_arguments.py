"""Arguments as people write them, by mechanism, on the reference inventory and on another company's
(tests/data/inventory_harbour.yaml): a batch size in words ('one at a time', 'a host at a time'),
read from the runbook's declared cue words; numbers in a report ('3 errors a minute') that are no
argument; packs named in words ('the windows service restart pack'); scripts written inline with
their timeout; values past a declared bound, asked back with the limit; numbers in words."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.contracts import Plan
from pipeline.planner import HybridPlanner
from tests.pipeline.planning import DATA, OPERATOR, REFERENCE, Step, planner_fixture
from tests.pipeline.planning import only as only_step

ROLLING = "web.rolling_restart"
CONTROL = "automation.service_control"

reference = planner_fixture(REFERENCE, packs=True)
harbour = planner_fixture(DATA / "inventory_harbour.yaml", packs=True)


def only(plan: Plan) -> Step:
    tool, hosts, args = only_step(plan)
    return tool, sorted(hosts), args


PROD_WEB = ["web-01", "web-02", "web-03"]


@pytest.mark.parametrize(
    ("text", "targets", "batch"),
    [
        ("rolling restart nginx on the prod web servers one at a time", PROD_WEB, 1),
        ("do a rolling restart of nginx on the production web servers, a host at a time", PROD_WEB, 1),
        ("rolling restart of nginx across the prod web servers two at a time", PROD_WEB, 2),
        ("rolling restart nginx on web-01, web-02 and web-03 in batches of 3", PROD_WEB, 3),
        ("rolling restart nginx on web-01 and web-02, batch of 2", ["web-01", "web-02"], 2),
        ("roll nginx restarts through the prod web servers one by one", PROD_WEB, 1),
        ("rolling restart of nginx on the prod web servers, 2 servers at once", PROD_WEB, 2),
        ("rolling restart nginx on the prod web servers", PROD_WEB, 1),  # the declared default
        # a restart at a pace is the runbook's: only it explains the pace
        ("restart nginx on the prod web servers one at a time", PROD_WEB, 1),
        ("restart nginx on web-01, web-02 and web-03 two at a time", PROD_WEB, 2),
    ],
)
async def test_a_batch_size_in_words_on_the_reference_inventory(
    reference: HybridPlanner, text: str, targets: list[str], batch: int
) -> None:
    tool, hosts, args = only(await reference.plan(text, OPERATOR))
    assert (tool, hosts, args["service"], args["batch_size"]) == (ROLLING, targets, "nginx", batch)


LIVE_WEB = ["quay-web-1", "quay-web-2", "quay-web-3"]


@pytest.mark.parametrize(
    ("text", "targets", "batch"),
    [
        ("rolling restart of caddy on the live web servers one server at a time", LIVE_WEB, 1),
        ("roll a restart of haproxy through quay-web-1 and quay-web-2, two hosts at once", LIVE_WEB[:2], 2),
        ("rolling restart caddy on the rotterdam web servers one by one", LIVE_WEB[:2], 1),
        ("rolling restart caddy across the live web servers with a batch size of 2", LIVE_WEB, 2),
        ("do a rolling restart of caddy on quay-web-1..3, a single node at a time", LIVE_WEB, 1),
        ("rolling restart of haproxy on the live web servers three at a time", LIVE_WEB, 3),
    ],
)
async def test_a_batch_size_in_words_on_another_inventory(
    harbour: HybridPlanner, text: str, targets: list[str], batch: int
) -> None:
    tool, hosts, args = only(await harbour.plan(text, OPERATOR))
    assert (tool, hosts, args["batch_size"]) == (ROLLING, targets, batch)


async def test_a_restart_without_a_pace_stays_a_service_restart(harbour: HybridPlanner) -> None:
    tool, hosts, args = only(await harbour.plan("restart caddy on the live web servers", OPERATOR))
    assert (tool, hosts) == ("automation.service_control", LIVE_WEB)
    assert args == {"service": "caddy", "action": "restart"}


async def test_the_frankfurt_one_still_means_one_host(reference: HybridPlanner) -> None:
    """'one' without a pace after it keeps its meaning: one asset of a selection, asked back."""
    plan = await reference.plan("restart nginx on the prod web one", OPERATOR)
    assert plan.outcome == "clarify"


@pytest.mark.parametrize(
    ("report", "plain"),
    [
        ("we're getting 3 errors a minute on web-01", "we're getting errors on web-01"),
        ("web-02 logs about 40 timeouts per second", "web-02 logs timeouts"),
        ("collect diagnostics from api-02, it throws 5 errors every hour", "collect diagnostics from api-02"),
        ("show the uptime of quay-web-1, it loses two connections a minute", "show the uptime of quay-web-1"),
        ("ping quay-web-2 - it drops 7 packets every minute", "ping quay-web-2"),  # not 7 pings
        ("ping db-01, we lose 10 packets an hour", "ping db-01"),
    ],
)
async def test_a_rate_in_a_report_is_no_argument(
    reference: HybridPlanner, harbour: HybridPlanner, report: str, plain: str
) -> None:
    """The request with the rate plans exactly what it plans without it."""
    planner = harbour if "quay" in report else reference
    with_rate, without = await planner.plan(report, OPERATOR), await planner.plan(plain, OPERATOR)
    assert with_rate.outcome == without.outcome
    assert [(s.tool, s.args, s.target_names) for s in with_rate.steps] == [
        (s.tool, s.args, s.target_names) for s in without.steps
    ]


# --------------------------------------------------------------------------- packs named in words


@pytest.mark.parametrize(
    ("text", "tool", "targets", "args"),
    [
        ("use the windows service restart pack for W3SVC on win-app-01", "windows.service_restart",
         ["win-app-01"], {"service": "W3SVC"}),
        ("run the windows service restart runbook on win-app-01 for the Spooler service",
         "windows.service_restart", ["win-app-01"], {"service": "Spooler"}),
        ("run the disk cleanup pack on web-04", "linux.disk_cleanup", ["web-04"], {}),
        ("run the linux package version pack for openssl on web-01", "linux.package_version",
         ["web-01"], {"package": "openssl"}),
        ("execute the package version playbook for curl on mon-01", "linux.package_version",
         ["mon-01"], {"package": "curl"}),
        ("kick off the rolling restart runbook for nginx on the prod web servers", ROLLING, PROD_WEB,
         {"service": "nginx"}),
        ("run the diag collect playbook against db-02", "diag.collect", ["db-02"], {}),
        ("do the pg activity check on db-01", "db.pg_activity", ["db-01"], {}),
    ],
)  # fmt: skip
async def test_a_pack_named_in_words_on_the_reference_inventory(
    reference: HybridPlanner, text: str, tool: str, targets: list[str], args: dict[str, Any]
) -> None:
    found, hosts, written = only(await reference.plan(text, OPERATOR))
    assert (found, hosts) == (tool, targets)
    assert {k: written[k] for k in args} == args


@pytest.mark.parametrize(
    ("text", "tool", "targets", "args"),
    [
        ("launch the windows service restart pack for MSMQ on crane-win-02", "windows.service_restart",
         ["crane-win-02"], {"service": "MSMQ"}),
        ("run the linux disk cleanup runbook on quay-web-3", "linux.disk_cleanup", ["quay-web-3"], {}),
        ("use the pg activity pack on berth-db-a", "db.pg_activity", ["berth-db-a"], {}),
        ("run the web rolling restart for caddy on the live web servers two at a time", ROLLING,
         LIVE_WEB, {"service": "caddy", "batch_size": 2}),
    ],
)  # fmt: skip
async def test_a_pack_named_in_words_on_another_inventory(
    harbour: HybridPlanner, text: str, tool: str, targets: list[str], args: dict[str, Any]
) -> None:
    found, hosts, written = only(await harbour.plan(text, OPERATOR))
    assert (found, hosts) == (tool, targets)
    assert {k: written[k] for k in args} == args


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("restart W3SVC on win-app-01", CONTROL, {"service": "W3SVC", "action": "restart"}),
        ("what's the status of W3SVC on win-app-01", "automation.service_status", {"service": "W3SVC"}),
        ("restart nginx on web-01", CONTROL, {"service": "nginx", "action": "restart"}),
    ],
)
async def test_without_its_name_a_request_keeps_its_own_tool(
    reference: HybridPlanner, text: str, tool: str, args: dict[str, Any]
) -> None:
    assert only(await reference.plan(text, OPERATOR))[::2] == (tool, args)


async def test_a_verb_after_service_is_no_service_name(reference: HybridPlanner) -> None:
    """'a service restart of nginx': 'restart' names no service (it planned a status of 'restart')."""
    plan = await reference.plan("do a service restart of nginx on web-01", OPERATOR)
    assert all(s.args.get("service") != "restart" for s in plan.steps)


# --------------------------------------------------------------------------- scripts and timeouts

SCRIPT = "automation.run_script"
COMMAND = "automation.run_command"


@pytest.mark.parametrize(
    ("text", "host", "args"),
    [
        ("run this bash on db-01: `df -h | sort`", "db-01", {"language": "bash", "script": "df -h | sort"}),
        ("run this python on web-01: print(42)", "web-01", {"language": "python", "script": "print(42)"}),
        ("execute a python one-liner on api-01: import os; print(os.cpu_count())", "api-01",
         {"language": "python", "script": "import os; print(os.cpu_count())"}),
        ("run this powershell on win-app-01: Get-Service W3SVC", "win-app-01",
         {"language": "powershell", "script": "Get-Service W3SVC"}),
        ("run a script on db-01, give it 10 minutes: `df -h`", "db-01",
         {"language": "bash", "script": "df -h", "timeout_s": 600}),
        ("run this bash on db-02, allow 90s: `du -sh /var/log`", "db-02",
         {"script": "du -sh /var/log", "timeout_s": 90}),
        ("run this bash on db-01: `du -sh /var/* | sort -h`, time out after 2 min", "db-01",
         {"script": "du -sh /var/* | sort -h", "timeout_s": 120}),
        ("run the following bash script on web-02 and give it 7 minutes:\n"
         "```\nfor i in 1 2 3; do\n  echo $i\ndone\n```",
         "web-02", {"language": "bash", "script": "for i in 1 2 3; do\n  echo $i\ndone", "timeout_s": 420}),
    ],
)  # fmt: skip
async def test_a_script_written_inline_with_its_timeout(
    reference: HybridPlanner, text: str, host: str, args: dict[str, Any]
) -> None:
    tool, hosts, written = only(await reference.plan(text, OPERATOR))
    assert (tool, hosts) == (SCRIPT, [host])
    assert {k: written[k] for k in args} == args


async def test_a_script_body_names_no_hosts(harbour: HybridPlanner) -> None:
    text = "run this bash on berth-db-b: ping -c 1 quay-web-1 && curl -s quay-web-2"
    assert only(await harbour.plan(text, OPERATOR)) == (
        SCRIPT,
        ["berth-db-b"],
        {"language": "bash", "script": "ping -c 1 quay-web-1 && curl -s quay-web-2", "timeout_s": 300.0},
    )


@pytest.mark.parametrize(
    ("text", "command", "timeout"),
    [
        ("run uptime on web-01, give it 10 minutes", "uptime", 600),
        ("run uptime on web-01, time out after 2 min", "uptime", 120),
        ("run `df -h` on web-01 and allow 90s", "df -h", 90),
        ("run `df -h` on web-01, timeout after 3 minutes", "df -h", 180),
        ('run "journalctl -n 50" on web-02, kill it after half a minute', "journalctl -n 50", 30),
    ],
)
async def test_a_command_timeout_in_words(
    reference: HybridPlanner, text: str, command: str, timeout: int
) -> None:
    tool, _, args = only(await reference.plan(text, OPERATOR))
    assert (tool, args) == (COMMAND, {"command": command, "timeout_s": timeout})


# --------------------------------------------------------------------------- declared bounds


@pytest.mark.parametrize(
    ("text", "limit", "at_limit"),
    [
        ("measure bandwidth from web-01 to db-01 for 90s", "at most 60 s",
         "network.bandwidth web-01 to=db-01 duration_s=60"),
        ("run a bandwidth test between web-02 and db-02 for 2 minutes", "at most 60 s",
         "network.bandwidth web-02 to=db-02 duration_s=60"),
        ("run uptime on web-01 with a 2 hour timeout", "at most 3600 s",
         "automation.run_command web-01 command=uptime timeout_s=3600"),
        ("ping web-03 500 times", "at most 20", "network.ping web-03 count=20"),
    ],
)  # fmt: skip
async def test_a_value_past_the_declared_bound_is_asked_with_the_limit(
    reference: HybridPlanner, text: str, limit: str, at_limit: str
) -> None:
    """Never dropped for the default, never changed silently: the limit is said and the request at
    the limit is offered; sent back, it plans."""
    plan = await reference.plan(text, OPERATOR)
    assert plan.outcome == "clarify" and limit in plan.message
    assert plan.suggestions == (at_limit,)
    assert (await reference.plan(at_limit, OPERATOR)).outcome == "plan"


async def test_a_bound_on_another_inventory(harbour: HybridPlanner) -> None:
    plan = await harbour.plan("iperf between quay-web-1 and berth-db-a for 5 min", OPERATOR)
    assert plan.outcome == "clarify" and "you asked for 300 s" in plan.message
    assert plan.suggestions == ("network.bandwidth quay-web-1 to=berth-db-a duration_s=60",)


async def test_a_value_within_the_bound_plans(harbour: HybridPlanner) -> None:
    assert only(await harbour.plan("iperf quay-web-1 to berth-db-a for 45 seconds", OPERATOR)) == (
        "network.bandwidth",
        ["quay-web-1"],
        {"to": "berth-db-a", "duration_s": 45.0},
    )


# --------------------------------------------------------------------------- numbers in words and lists


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("traceroute to web-03 with at most fifteen hops", "network.traceroute", {"max_hops": 15}),
        ("ping db-01 a dozen times", "network.ping", {"count": 12}),
        ("ping db-01 twelve times", "network.ping", {"count": 12}),
        ("run uptime on db-01 with a timeout of fifteen minutes", COMMAND, {"timeout_s": 900}),
        ("check whether 22, 80 and 443 are open on db-01", "network.port_scan", {"ports": [22, 80, 443]}),
        ("rolling restart nginx on the prod web servers, max 1 failure", ROLLING, {"max_fail": 1}),
        ("rolling restart nginx on the prod web servers two at a time, allow 1 failure", ROLLING,
         {"batch_size": 2, "max_fail": 1}),
    ],
)  # fmt: skip
async def test_numbers_in_words_and_lists(
    reference: HybridPlanner, text: str, tool: str, args: dict[str, Any]
) -> None:
    found, _, written = only(await reference.plan(text, OPERATOR))
    assert (found, {k: written[k] for k in args}) == (tool, args)


async def test_failures_tolerated_on_another_inventory(harbour: HybridPlanner) -> None:
    text = "rolling restart of caddy across the live web servers, tolerate 2 failed hosts"
    tool, hosts, args = only(await harbour.plan(text, OPERATOR))
    assert (tool, hosts, args["max_fail"], args["batch_size"]) == (ROLLING, LIVE_WEB, 2, 1)
