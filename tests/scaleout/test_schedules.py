"""Schedules on two bot replicas and two workers (real processes, PostgreSQL, Redis, arq):
each tick runs once, and a scheduled run whose worker dies is finished by another worker."""

from __future__ import annotations

import asyncio
import itertools
import sys
from datetime import timedelta

import pytest

from tests.scaleout.conftest import ROOT, Cluster
from tests.scaleout.test_cluster import pid_of

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CONSOLE_PERSON = """
  - name: carol
    roles: [operator]
    console: "*"
"""
RUNS = """SELECT r.tick_at, r.claimed_by, r.execution_id, r.posted,
                 e.status, s.status, s.attempt, s.claimed_by
          FROM schedule_runs r JOIN executions e ON e.id = r.execution_id
          JOIN execution_steps s ON s.execution_id = e.id
          WHERE r.finished_at IS NOT NULL ORDER BY r.tick_at"""
SCHEDULED = "SELECT id FROM executions WHERE message->>'message_id' LIKE 'schedule:%'"


async def cli(cluster: Cluster, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "schedules", *args, cwd=ROOT, env=cluster.env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    return out.decode()


def with_console_person(cluster: Cluster) -> None:
    roles = cluster.workdir / "roles.yaml"
    roles.write_text(roles.read_text() + CONSOLE_PERSON)
    cluster.env["OPSCONDUCTOR_SCHEDULES__TICK_S"] = "0.2"


def posts(cluster: Cluster) -> list[str]:
    return [str(m.get("text")) for m in cluster.api.messages.values() if "Schedule " in str(m.get("text"))]


async def test_each_tick_runs_once_across_two_replicas_and_two_workers(cluster: Cluster) -> None:
    with_console_person(cluster)
    added = await cli(cluster, "add", "ping 127.0.0.5", "--every", "1s", "--post", "slack:C1", "--always")
    assert "Scheduled" in added, added
    schedule_id = added.split("(schedule ", 1)[1].split(")", 1)[0]  # its number
    workers = [await cluster.start("worker") for _ in range(2)]  # replicas tick as soon as they start
    replicas = [await cluster.start("serve") for _ in range(2)]

    await cluster.wait_for(RUNS, lambda rows: len(rows) >= 6, timeout_s=90)
    await cli(cluster, "pause", schedule_id)
    await asyncio.sleep(3.0)  # runs already claimed finish; nothing new starts
    runs = await cluster.rows(RUNS)
    ticks = [r[0] for r in runs]
    assert len(set(ticks)) == len(ticks)  # a tick never ran twice
    assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(ticks))
    executions = {r[0] for r in await cluster.rows(SCHEDULED)}
    claimed = await cluster.rows("SELECT count(*) FROM schedule_runs")
    assert len(executions) == claimed[0][0]  # one execution per claimed tick, none without a tick
    assert {r[2] for r in runs} <= executions
    assert {(r[4], r[5], r[6]) for r in runs} == {("succeeded", "succeeded", 1)}
    assert {pid_of(r[7]) for r in runs} <= {w.popen.pid for w in workers}  # steps ran on the workers
    drivers = {int(r[1].split(":")[1]) for r in runs}
    assert drivers <= {p.popen.pid for p in replicas}
    await cluster.wait_for(RUNS, lambda rows: len(posts(cluster)) >= len(runs), timeout_s=10)
    assert all(r[3] for r in runs)
    listed = await cli(cluster, "list")
    assert any(line.split()[:3:2] == [schedule_id, "paused"] for line in listed.splitlines()), listed


async def test_a_scheduled_run_whose_worker_dies_is_finished_by_another_worker(cluster: Cluster) -> None:
    with_console_person(cluster)
    added = await cli(
        cluster, "add", "ping 127.0.0.8 20 times", "--every", "1h", "--post", "slack:C1", "--always"
    )
    assert "Scheduled" in added, added
    workers = [await cluster.start("worker") for _ in range(2)]
    await cluster.start("serve")
    steps = "SELECT s.status, s.claimed_by, s.attempt FROM execution_steps s"
    rows = await cluster.wait_for(steps, lambda rows: bool(rows) and rows[0][0] == "running")
    doomed = next(w for w in workers if w.popen.pid == pid_of(rows[0][1]))
    cluster.kill(doomed)

    runs = await cluster.wait_for(RUNS, lambda rows: len(rows) == 1, timeout_s=90)
    (_tick, _by, _execution, posted, status, step_status, attempt, worker) = runs[0]
    assert (status, step_status, attempt) == ("succeeded", "succeeded", 2)
    assert pid_of(worker) != doomed.popen.pid
    assert posted
    await cluster.wait_for(RUNS, lambda rows: len(posts(cluster)) == 1, timeout_s=10)
