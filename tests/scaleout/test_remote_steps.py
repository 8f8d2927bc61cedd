"""Steps that run over SSH on an `opsconductor worker` while a bot replica talks to Slack.

Real processes (`python -m bot serve`, `python -m bot worker`), the test's PostgreSQL and
Redis, the Slack stand-in, and the real sshd of the testbed as the host `box-01`: the workers
reach it through a relay on 127.0.0.1 (the sshd lives in the testbed's network namespace; the
workers, like PostgreSQL, in this one). The sshd shares this machine's process table, so what a
command left running on the "host" is visible here (tests/integration/target_processes.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.freezing_proxy import FreezingProxy
from tests.integration.sshd_fixtures import SSH_HOSTS, sshd_testbed
from tests.integration.sshd_testbed import SshdTestbed
from tests.integration.target_processes import files_left, kill_groups, running, started
from tests.scaleout.conftest import ROOT, Cluster, Proc
from tests.services import free_port

__all__ = ["sshd_testbed"]
pytestmark = [pytest.mark.slow, pytest.mark.sshd, pytest.mark.timeout(240)]

HOST = "box-01"
EXECUTION = "SELECT id, status, cancel_requested_by FROM executions ORDER BY created_at"
STEPS = "SELECT status, attempt, claimed_by, result FROM execution_steps ORDER BY position"
AUDIT = "SELECT event, actor FROM audit_log ORDER BY seq"
CANCEL = "opsconductor_cancel"


@pytest.fixture
async def box(sshd_testbed: SshdTestbed, cluster: Cluster, tmp_path: Path) -> AsyncIterator[Path]:
    """`box-01` (127.0.0.1 through the relay) in the inventory, the service's SSH login to it;
    yields a unique canary path whose processes the test's cleanup kills on the host."""
    port = free_port()
    relay = FreezingProxy(("127.0.0.1", port), (SSH_HOSTS[9], 22), upstream_ns=sshd_testbed.inside)
    await relay.start()
    known = sshd_testbed.write_known_hosts(tmp_path / "known_hosts", ["127.0.0.1"], port=port)
    cluster.env.update(
        {
            "OPSCONDUCTOR_SSH__PORT": str(port),
            "OPSCONDUCTOR_SSH__USERNAME": "root",
            "OPSCONDUCTOR_SSH__KNOWN_HOSTS": str(known),
            "OPSCONDUCTOR_SSH__CLIENT_KEYS": json.dumps([str(sshd_testbed.client_key)]),
            "OPSCONDUCTOR_SECURITY__AUDIT_KEY": base64.b64encode(b"a" * 32).decode(),
        }
    )
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "assets:\n"
        f"  - {{name: {HOST}, address: 127.0.0.1, type: app_server, os: linux, environment: staging}}\n"
    )
    imported = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "assets", "import", str(inventory), cwd=ROOT, env=cluster.env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await imported.communicate()
    assert imported.returncode == 0, out.decode()
    canary = tmp_path / "canary"
    try:
        yield canary
    finally:
        kill_groups(str(canary))
        await relay.close()


async def workers_elsewhere(cluster: Cluster, count: int) -> list[Proc]:
    """Workers whose home folder (and so local disk) is not the replica's."""
    return [
        await cluster.start("worker", OPSCONDUCTOR_HOME=str(cluster.workdir / f"worker-home-{n}"))
        for n in range(count)
    ]


def pid_of(claimed_by: str) -> int:
    return int(claimed_by.rsplit(":", 1)[1])


def slack_text(cluster: Cluster) -> str:
    return json.dumps(list(cluster.api.messages.values()))


async def until(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.05)


async def test_a_file_fetched_on_a_worker_is_uploaded_by_the_replica(cluster: Cluster, box: Path) -> None:
    replica = await cluster.start("serve")
    (worker,) = await workers_elsewhere(cluster, 1)
    report = box.with_name("report.txt")
    content = "disk report\n" + "".join(f"line {n}: all good\n" for n in range(200))
    report.write_text(content)

    await cluster.event(replica, cluster.mention_body(f"fetch {report} from {HOST}", event_id="EvFetch"))
    rows = await cluster.wait_for(STEPS, lambda rows: len(rows) == 1 and rows[0][0] == "succeeded")
    assert pid_of(rows[0][2]) == worker.popen.pid  # fetched on the worker
    assert rows[0][3]["results"][0]["output"]["files"][0].startswith("stored-file:")
    await until(lambda: any(content.encode() in u for u in cluster.api.uploads), 30, "the upload")
    (completed,) = [c for c in cluster.api.of("files.completeUploadExternal") if "report.txt" in str(c.args)]
    assert completed.args["channel_id"] == "C1" and completed.args.get("thread_ts")
    assert not (cluster.workdir / "worker-home-0" / "files").exists()  # nothing left on the worker's disk


async def test_a_cancel_clicked_on_the_replica_stops_the_command_on_the_worker(
    cluster: Cluster, box: Path
) -> None:
    replica = await cluster.start("serve")
    (worker,) = await workers_elsewhere(cluster, 1)
    command = f"echo begin; tail -F {box}.log 2>/dev/null; touch {box}"
    await cluster.event(replica, cluster.mention_body(f'run "{command}" on {HOST}', event_id="EvLong"))
    pending = await cluster.wait_for(EXECUTION, lambda rows: len(rows) == 1)
    execution_id = pending[0][0]
    await cluster.wait_for(
        "SELECT state FROM approvals", lambda rows: rows == [("pending",)]
    )  # critical: bob (an approver, not the requester) approves
    assert await cluster.click(replica, execution_id, user="U2") == 200
    assert await started(str(box)), f"the command never started: {cluster.tails()}"
    steps = await cluster.rows(STEPS)
    assert pid_of(steps[0][2]) == worker.popen.pid
    # its output streams from the worker into the thread (relayed over Redis)
    await until(lambda: "output so far on box-01" in slack_text(cluster), 15, "the output in the thread")

    asked = time.monotonic()
    assert await cluster.click(replica, execution_id, user="U1", action_id=CANCEL) == 200
    await until(lambda: running(str(box)) == [], 10, f"the command to stop: {cluster.tails()}")
    stopped_after = time.monotonic() - asked
    assert stopped_after < 10

    rows = await cluster.wait_for(EXECUTION, lambda rows: rows[0][1] == "failed")
    assert rows[0][2] == "alice"
    (step,) = await cluster.rows(STEPS)
    assert step[0] == "failed"
    assert step[3]["results"][0]["error"] == "cancelled by alice; it was stopped"
    audit = await cluster.wait_for(AUDIT, lambda rows: ("execution.cancelled", "alice") in rows)
    assert ("execution.cancel_requested", "alice") in audit
    await until(lambda: "Cancelled by alice" in slack_text(cluster), 10, "the thread to be told")
    await asyncio.sleep(1.0)
    assert files_left(box) == []  # the shell went with the tail: nothing ran after it


async def test_a_worker_dying_under_a_cancel_leaves_no_cancel_pending(cluster: Cluster, box: Path) -> None:
    replica = await cluster.start("serve")
    workers = await workers_elsewhere(cluster, 2)
    await cluster.event(replica, cluster.mention_body("ping 127.0.0.7 20 times", event_id="EvDie"))
    claim = await cluster.wait_for(
        "SELECT claimed_by FROM execution_steps WHERE status = 'running'", lambda rows: len(rows) == 1
    )
    execution_id = (await cluster.rows(EXECUTION))[0][0]
    victim = next(w for w in workers if w.popen.pid == pid_of(claim[0][0]))
    cluster.kill(victim)  # the cancel published now reaches nobody; the store keeps it
    assert await cluster.click(replica, execution_id, user="U1", action_id=CANCEL) == 200

    rows = await cluster.wait_for(EXECUTION, lambda rows: rows[0][1] == "failed", timeout_s=30)
    assert rows[0][2] == "alice"
    (step,) = await cluster.rows(STEPS)
    assert step[0] == "skipped"  # the read step was not run again for a cancelled run
    assert step[3]["results"][0]["error"] == "not started: cancelled by alice"
    await until(lambda: "Cancelled by alice" in slack_text(cluster), 10, "the thread to be told")
