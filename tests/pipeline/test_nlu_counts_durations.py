"""Numbers with their units: a duration wherever a tool declares one (a measurement's length, a
command's timeout), a bare number only after the argument's own word, and counts per target
('10 each', '5 pings apiece', '4 packets per host'), on the reference and another inventory."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import ALT, OPERATOR, REFERENCE, only, planner_fixture

reference = planner_fixture(REFERENCE)
other = planner_fixture(ALT)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("measure bandwidth from api-02 to db-02 for 40s", 40),
        ("iperf web-03 to cache-01 for half a minute", 30),
        ("throughput between web-02 and db-01, 25 seconds", 25),
        ("how fast is the link from api-01 to web-04 over 50 seconds", 50),
        ("bandwidth from web-03 to web-02 for a minute", 60),
        ("bandwidth test web-01 to db-02 with duration 12", 12),  # a bare number after its own word
        ("bandwidth test web-01 to db-02 for 12", 5),  # no unit, no own word: the default
    ],
)
async def test_a_measurement_length_in_any_common_form(
    reference: HybridPlanner, text: str, seconds: int
) -> None:
    tool, _, args = only(await reference.plan(text, OPERATOR))
    assert (tool, args["duration_s"]) == ("network.bandwidth", seconds)


@pytest.mark.parametrize(
    ("text", "tool", "seconds"),
    [
        ("run `pg_dumpall -f /tmp/all.sql` on db-02, it may take 20 minutes", "automation.run_command", 1200),
        ("run `make -C /srv/app` on api-02 and give it three minutes", "automation.run_command", 180),
        ("execute `sleep 3` on web-03 timeout 45", "automation.run_command", 45),
        ("execute `sleep 3` on web-03 allow 45", "automation.run_command", 60),  # a bare number: no
        ("run the bash script `du -sh /var` on db-02 with an hour timeout", "automation.run_script", 3600),
        ("run this python script on cache-01 and allow 2 min: ```print(2)```", "automation.run_script", 120),
    ],
)
async def test_a_timeout_wherever_a_tool_declares_one(
    reference: HybridPlanner, text: str, tool: str, seconds: int
) -> None:
    found, _, args = only(await reference.plan(text, OPERATOR))
    assert (found, args["timeout_s"]) == (tool, seconds)


@pytest.mark.parametrize(
    ("text", "targets", "count"),
    [
        ("ping web-03 and db-02 8 each", ["db-02", "web-03"], 8),
        ("ping api-01, api-02, 2 pings apiece", ["api-01", "api-02"], 2),
        ("ping cache-01 and mon-01 with 6 packets per host", ["cache-01", "mon-01"], 6),
        ("send 4 pings to each of web-02 and web-04", ["web-02", "web-04"], 4),
        ("ping web-01 and web-02 three times each", ["web-01", "web-02"], 3),
    ],
)
async def test_a_count_per_target(
    reference: HybridPlanner, text: str, targets: list[str], count: int
) -> None:
    tool, found, args = only(await reference.plan(text, OPERATOR))
    assert (tool, sorted(found), args) == ("network.ping", targets, {"count": count})


@pytest.mark.parametrize(
    ("text", "tool", "arg", "value"),
    [
        ("ping pg-main and pg-replica 9 each", "network.ping", "count", 9),
        ("ping lb-nyc-1 and lb-ams-1, 3 echo requests apiece", "network.ping", "count", 3),
        ("iperf app-us-3 to app-qa-1 for 15 seconds", "network.bandwidth", "duration_s", 15),
        (
            "run `vacuumdb --all` on pg-main and give it 20 minutes",
            "automation.run_command",
            "timeout_s",
            1200,
        ),
    ],
)
async def test_the_same_on_another_inventory(
    other: HybridPlanner, text: str, tool: str, arg: str, value: int
) -> None:
    found, _, args = only(await other.plan(text, OPERATOR))
    assert (found, args[arg]) == (tool, value)


@pytest.mark.parametrize(
    ("text", "tool", "source", "args"),
    [
        (
            "iperf api-01 -> db-02 for 20 seconds",
            "network.bandwidth",
            "api-01",
            {"to": "db-02", "duration_s": 20},
        ),
        ("throughput web-02 → cache-01", "network.bandwidth", "web-02", {"to": "cache-01"}),
        ("speed test web-02 -> web-03", "network.bandwidth", "web-02", {"to": "web-03"}),  # no range
        (
            "measure bandwidth db-01 => db-02, 15s",
            "network.bandwidth",
            "db-01",
            {"to": "db-02", "duration_s": 15},
        ),
        (
            "copy /etc/nginx/nginx.conf web-01 -> web-04",
            "automation.copy_file",
            "web-01",
            {"to": "web-04", "to_path": "/etc/nginx/nginx.conf"},
        ),
    ],
)
async def test_an_arrow_between_two_hosts_reads_to(
    reference: HybridPlanner, text: str, tool: str, source: str, args: dict[str, Any]
) -> None:
    found, targets, got = only(await reference.plan(text, OPERATOR))
    assert (found, targets) == (tool, [source])
    assert {k: got.get(k) for k in args} == args
