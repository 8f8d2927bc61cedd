"""An alert diagnosis whose replica is killed mid-run: another replica resumes it and posts the
findings in the alert's thread (real processes on PostgreSQL and Redis, the Slack stand-in)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import pytest

from tests.scaleout.conftest import ROOT, Cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

TOKEN = "alerts-resume-token-5c1e"
CHANNEL = "CALERTS"
STEPS = "SELECT s.status, s.attempt FROM execution_steps s JOIN executions e ON e.id = s.execution_id"
INVENTORY = "assets:\n  - {name: edge-01, address: 127.0.0.9, type: web_server, os: linux}\n"
ALERT = {
    "alerts": [
        # the ping count comes from a label (alerts.arguments): twenty echo requests, about four seconds
        {"name": "EdgeLatency", "labels": {"host": "edge-01", "pings": "20"}, "summary": "p99 above 2 s"}
    ]
}


async def test_a_diagnosis_cut_off_by_a_dead_replica_is_resumed_and_posted_in_its_thread(
    cluster: Cluster,
) -> None:
    (cluster.workdir / "inventory.yaml").write_text(INVENTORY)
    cluster.env.update(
        {
            "OPSCONDUCTOR_JOBS__ENGINE": "inprocess",  # steps run in the replica that dies
            "OPSCONDUCTOR_EXECUTION__DRIVER_LEASE_S": "3",
            "OPSCONDUCTOR_SERVER__SWEEP_INTERVAL_S": "0.5",
            "OPSCONDUCTOR_ALERTS__ENABLED": "true",
            "OPSCONDUCTOR_ALERTS__TOKEN": TOKEN,
            "OPSCONDUCTOR_ALERTS__CHANNEL": CHANNEL,
            "OPSCONDUCTOR_ALERTS__RUNBOOK": "network.ping",
            "OPSCONDUCTOR_ALERTS__ARGUMENTS": json.dumps({"count": "pings"}),
        }
    )
    imported = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "assets", "import", str(cluster.workdir / "inventory.yaml"),
        cwd=ROOT, env=cluster.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await imported.communicate()
    assert imported.returncode == 0, out.decode()
    driver = await cluster.start("serve")
    survivor = await cluster.start("serve")

    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with cluster.http.post(driver.base + "/api/v1/alerts/webhook", json=ALERT, headers=headers) as resp:
        receipt = await resp.json()
    assert resp.status == 202 and len(receipt["diagnosing"]) == 1, receipt
    await cluster.wait_for(STEPS, lambda rows: [r[0] for r in rows] == ["running"])
    cluster.kill(driver)  # mid-ping: nobody will post these findings from there

    await cluster.wait_for("SELECT status FROM executions", lambda rows: rows[0][0] == "succeeded")
    assert await cluster.rows(STEPS) == [("succeeded", 2)]  # a read step: run again by the survivor
    driver_of = await cluster.rows("SELECT driver FROM executions")
    assert f":{survivor.popen.pid}:" in driver_of[0][0]
    findings = await in_thread(cluster, receipt["thread"])
    assert len(findings) == 1 and "edge-01" in json.dumps(findings[0])
    heads = [
        m for (channel, _), m in cluster.api.messages.items() if channel == CHANNEL and not m.get("thread_ts")
    ]
    assert len(heads) == 1  # the thread the alert opened, not a new one


async def in_thread(cluster: Cluster, thread: str, timeout_s: float = 20.0) -> list[dict[str, Any]]:
    """The messages posted in the alert's thread (polled, bounded)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [m for m in cluster.api.messages.values() if m.get("thread_ts") == thread]
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)
