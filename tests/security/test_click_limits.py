"""Approval decisions go through the same rate limits as requests, on the console as in chat:
`opsconductor approve` over the person's limit (counted in the real Redis every process shares)
applies nothing and says so."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.security.serve import base_env, run_once

pytestmark = pytest.mark.timeout(180)


def test_console_approve_over_the_limit_applies_nothing(tmp_path: Path, redis_url: str) -> None:
    home = tmp_path / "home"
    env = base_env(home, redis__url=redis_url, rate_limits__per_person="2")
    asked = run_once(env, "ask", "--json", "restart nginx on loopback-2")
    assert asked.returncode == 0, asked.stderr
    execution_id = json.loads(asked.stdout)["execution_id"]
    assert run_once(env, "ask", "help").returncode == 0  # the person's second request
    done = run_once(env, "approve", execution_id)
    assert done.returncode == 1, done.stdout + done.stderr
    said = " ".join(done.stdout.split())  # the console wraps long lines
    assert "this approval was not applied" in said and "at most 2 requests per person" in said
    db = sqlite3.connect(home / "opsconductor.db")
    try:
        status = db.execute("select status from executions where id = ?", (execution_id,)).fetchone()
        query = "select state from approvals where execution_id = ?"
        approval = db.execute(query, (execution_id,)).fetchone()
    finally:
        db.close()
    assert status == ("awaiting_approval",) and approval == ("pending",)
