"""A bot replica killed mid-plan: another replica finishes the plan and answers in the thread."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.scaleout.conftest import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

PLAN = "ping 127.0.0.7 2 times, then ping 127.0.0.8 20 times"
STEPS = """SELECT s.step_id, s.status, s.attempt FROM execution_steps s
           JOIN executions e ON e.id = s.execution_id ORDER BY s.position"""
AUDIT = "SELECT event FROM audit_log ORDER BY seq"


@pytest.mark.parametrize("engine", ["inprocess", "arq"])
async def test_a_replica_killed_mid_plan_is_resumed_by_another(cluster: Cluster, engine: str) -> None:
    cluster.env.update(
        {
            "OPSCONDUCTOR_JOBS__ENGINE": engine,
            "OPSCONDUCTOR_EXECUTION__DRIVER_LEASE_S": "3",
            "OPSCONDUCTOR_SERVER__SWEEP_INTERVAL_S": "0.5",
        }
    )
    driver = await cluster.start("serve")
    survivor = await cluster.start("serve")
    if engine == "arq":
        await cluster.start("worker")
    await cluster.event(driver, cluster.mention_body(PLAN, event_id="EvResume"))
    await cluster.wait_for(STEPS, lambda rows: [r[1] for r in rows] == ["succeeded", "running"])
    cluster.kill(driver)  # step 2 is running: in the driver itself (inprocess) or on the worker (arq)

    await cluster.wait_for("SELECT status FROM executions", lambda rows: rows[0][0] == "succeeded")
    steps = await cluster.rows(STEPS)
    # step 1 never ran again; step 2 died with its driver and was rerun (a read step), or
    # finished on its worker and was picked up from there
    assert steps == [("s1", "succeeded", 1), ("s2", "succeeded", 2 if engine == "inprocess" else 1)]
    driver_of = await cluster.rows("SELECT driver FROM executions")
    assert f":{survivor.popen.pid}:" in driver_of[0][0]
    rows = await cluster.wait_for(AUDIT, lambda rows: rows[-1][0] == "execution.finished")
    assert [r[0] for r in rows].count("execution.resumed") == 1
    told = await told_in_thread(cluster)
    assert len(told) == 1 and told[0]["thread_ts"] is not None


async def told_in_thread(cluster: Cluster, timeout_s: float = 20.0) -> list[dict[str, Any]]:
    """The Slack messages saying the run was finished by another instance (polled, bounded)."""
    deadline = time.monotonic() + timeout_s
    while True:
        told = [m for m in cluster.api.messages.values() if "stopped midway" in str(m.get("text"))]
        if told or time.monotonic() > deadline:
            return told
        await asyncio.sleep(0.1)
