"""Arguments as people write them: durations in any common form, host ranges, typos in ordinary
words, shell-like quoting (what an approver sees is exactly what runs), 'all ports'."""

from __future__ import annotations

from typing import Any

import pytest

from domains.network.tools import COMMON_PORTS
from pipeline.nlu.durations import durations
from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR, only


@pytest.mark.parametrize(
    ("words", "seconds"),
    [
        ("90s", 90),
        ("10 min", 600),
        ("2m30s", 150),
        ("1.5 minutes", 90),
        ("an hour", 3600),
        ("half a minute", 30),
        ("an hour and a half", 5400),
        ("three minutes", 180),
        ("45-second", 45),
        ("2h", 7200),
    ],
)
def test_durations(words: str, seconds: int) -> None:
    [found] = durations(words.split())
    assert found.seconds == seconds


def test_no_durations_in_ordinary_words() -> None:
    assert durations(["wait", "a", "sec", "for", "web-01", "and", "port", "8080"]) == []


@pytest.mark.parametrize(
    ("text", "timeout"),
    [
        ("run `uptime` on web-02 with a timeout of 4 minutes", 240),
        ("run `df -h` on web-02, allow 45 seconds", 45),
        ("run `df -h` on web-02 timeout 1h", 3600),
        ("run `df -h` on web-02 and give it two minutes", 120),
        ("run `df -h` on web-02 (timeout: 75)", 75),
        ("run `df -h` on web-02 with timeout=20s", 20),
    ],
)
async def test_a_timeout_in_any_common_form(planner: HybridPlanner, text: str, timeout: int) -> None:
    tool, targets, args = only(await planner.plan(text, OPERATOR))
    assert (tool, targets, args["timeout_s"]) == ("automation.run_command", ["web-02"], timeout)


@pytest.mark.parametrize(
    ("text", "targets"),
    [
        ("ping db-01..db-02", ["db-01", "db-02"]),
        ("uptime for web-02 to 04", ["web-02", "web-03", "web-04"]),
        ("ping web-[02-03]", ["web-02", "web-03"]),
    ],
)
async def test_host_ranges(planner: HybridPlanner, text: str, targets: list[str]) -> None:
    assert only(await planner.plan(text, OPERATOR))[1] == targets


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("chekc disk on web-01", "automation.system_info", {"facts": ["disk"]}),
        ("shwo me teh memroy on api-01", "automation.system_info", {"facts": ["memory"]}),
        ("resatrt nginx on web-02", "automation.service_control", {"action": "restart"}),
        ("stauts of redis on cache-01", "automation.service_status", {"service": "redis"}),
    ],
)
async def test_typos_in_ordinary_words(
    planner: HybridPlanner, text: str, tool: str, args: dict[str, Any]
) -> None:
    got_tool, _, got_args = only(await planner.plan(text, OPERATOR))
    assert got_tool == tool and args.items() <= got_args.items()


@pytest.mark.parametrize(
    ("text", "command"),
    [
        (
            'run "curl -H \\"Authorization: Bearer x\\" http://x" on web-01',
            'curl -H "Authorization: Bearer x" http://x',
        ),
        ("run 'echo \"a b\" | wc -c' on web-01", 'echo "a b" | wc -c'),
        (
            "run `grep -c 'GET /' /var/log/nginx/access.log` on web-01",
            "grep -c 'GET /' /var/log/nginx/access.log",
        ),
        ("run this on web-01:\n```sh\nls -la /tmp\n```", "ls -la /tmp"),
        ('run "printf \\"%s\\\\n\\" done" on web-01', 'printf "%s\\n" done'),
    ],
)
async def test_commands_are_quoted_like_a_shell(planner: HybridPlanner, text: str, command: str) -> None:
    tool, targets, args = only(await planner.plan(text, OPERATOR))
    assert (tool, targets, args["command"]) == ("automation.run_command", ["web-01"], command)


async def test_all_ports_scans_all_ports_and_none_the_common_ones(planner: HybridPlanner) -> None:
    _, _, every = only(await planner.plan("scan all ports on web-01", OPERATOR))
    assert every["ports"] == list(range(1, 65536))
    _, _, common = only(await planner.plan("port scan web-01", OPERATOR))
    assert common["ports"] == sorted(COMMON_PORTS)
