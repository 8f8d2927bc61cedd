"""The documented exit codes (README "Exit codes"), each from a real `opsconductor` process:
0 done, 1 error, 2 usage, 3 ran but a step failed, 4 refused, 5 a decision on a closed plan."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.security.serve import base_env, run_once

pytestmark = [pytest.mark.timeout(240)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # SSH to a closed loopback port: every step that needs SSH runs and fails (unreachable)
    return base_env(tmp_path / "home", ssh__port="1")


def test_a_run_whose_step_failed_exits_3_and_one_that_succeeded_0(env: dict[str, str]) -> None:
    failed = run_once(env, "ask", "--json", "status of sshd on localhost")
    assert failed.returncode == 3, failed.stderr
    result = json.loads(failed.stdout)["result"]
    assert result["status"] == "failed"
    assert result["steps"][0]["results"][0]["status"] == "unreachable"
    succeeded = run_once(env, "ask", "ping 127.0.0.1")
    assert succeeded.returncode == 0, succeeded.stderr


def test_approving_a_rejected_plan_exits_5_and_repeating_a_decision_0(env: dict[str, str]) -> None:
    asked = json.loads(run_once(env, "ask", "--json", "stop sshd on localhost").stdout)
    assert asked["outcome"] == "awaiting_approval"
    execution = asked["execution_id"]
    rejected = run_once(env, "approve", "--reject", execution)
    assert rejected.returncode == 0 and "nothing was run" in rejected.stdout
    late = run_once(env, "approve", "--json", execution)
    assert late.returncode == 5, late.stdout + late.stderr
    assert json.loads(late.stdout)["closed"] == "rejected"
    again = run_once(env, "approve", "--reject", execution)  # the same decision twice: idempotent
    assert again.returncode == 0, again.stdout


def test_usage_and_unknown_plans_exit_2_and_1(env: dict[str, str]) -> None:
    assert run_once(env, "ask").returncode == 2  # TEXT missing
    unknown = run_once(env, "approve", "0" * 32)
    assert unknown.returncode == 1 and "can't find a pending approval" in unknown.stdout


def test_every_exit_code_is_documented_where_the_cli_says() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d) \|", section, re.MULTILINE)}
    assert documented == {0, 1, 2, 3, 4, 5}
