"""Text to run and numbers that count: a script after 'script ...:' is taken whole (its ';', verbs,
quotes and host names are the script's), a trailing 'for me' is not part of a command, and a number
followed by a noun counts that noun instead of naming a sibling host."""

from __future__ import annotations

import pytest

from pipeline.planner import HybridPlanner
from tests.pipeline.planning import OPERATOR


def _names(step: object) -> list[str]:
    return [t.name for t in step.targets]  # type: ignore[attr-defined]


async def test_a_script_after_a_colon_is_taken_whole(planner: HybridPlanner) -> None:
    text = "execute this bash snippet on db-02: systemctl status postgresql; ping -c1 web-01 | tail -n 2"
    plan = await planner.plan(text, OPERATOR)
    assert [s.tool for s in plan.steps] == ["automation.run_script"]
    step = plan.steps[0]
    assert step.args["script"] == "systemctl status postgresql; ping -c1 web-01 | tail -n 2"
    assert step.args["language"] == "bash"
    assert _names(step) == ["db-02"]  # web-01 is inside the script, not a target


async def test_a_script_keeps_quotes_brackets_and_the_timeout_before_the_colon(
    planner: HybridPlanner,
) -> None:
    text = "pls run a py script on api-02 with a 2 minute timeout: print(sorted({'b', 'a'}))"
    plan = await planner.plan(text, OPERATOR)
    step = plan.steps[0]
    assert step.tool == "automation.run_script"
    assert step.args == {"language": "python", "script": "print(sorted({'b', 'a'}))", "timeout_s": 120.0}
    assert _names(step) == ["api-02"]


@pytest.mark.parametrize("trail", ["for me", "for us please", "for me, thanks"])
async def test_a_trailing_for_me_is_not_part_of_the_command(planner: HybridPlanner, trail: str) -> None:
    plan = await planner.plan(f"could you run uptime -p on web-02 {trail}", OPERATOR)
    assert [(s.tool, s.args.get("command"), _names(s)) for s in plan.steps] == [
        ("automation.run_command", "uptime -p", ["web-02"])
    ]


async def test_a_number_followed_by_a_noun_counts_and_names_no_host(planner: HybridPlanner) -> None:
    plan = await planner.plan("ping db-01 and db-02, 5 echoes each", OPERATOR)
    assert [(s.tool, s.args.get("count"), _names(s)) for s in plan.steps] == [
        ("network.ping", 5, ["db-01", "db-02"])
    ]


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("check nginx on web-01 and 02 please", ["web-01", "web-02"]),
        ("ping web-01, 02 and 04", ["web-01", "web-02", "web-04"]),
        ("ping web-01 and 02 in frankfurt", ["web-01", "web-02"]),
    ],
)
async def test_a_bare_number_after_a_listed_host_still_names_a_sibling(
    planner: HybridPlanner, text: str, hosts: list[str]
) -> None:
    plan = await planner.plan(text, OPERATOR)
    assert plan.steps and _names(plan.steps[0]) == hosts
