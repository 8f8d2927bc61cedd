"""Two bot replicas and two workers as separate processes: nothing lost, nothing run twice."""

from __future__ import annotations

import asyncio
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.scaleout.conftest import Cluster, Proc

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

FINISHED = ("succeeded", "failed")
STEPS = """SELECT e.request, e.status, s.status, s.attempt, s.claimed_by, s.result
           FROM executions e JOIN execution_steps s ON s.execution_id = e.id ORDER BY e.created_at"""


async def start(cluster: Cluster, replicas: int, workers: int) -> tuple[list[Proc], list[Proc]]:
    # one after the other: first start-up seeds shared data (demo inventory, templates)
    serving = [await cluster.start("serve") for _ in range(replicas)]
    working = [await cluster.start("worker") for _ in range(workers)]
    return serving, working


def pid_of(claimed_by: str) -> int:
    return int(claimed_by.rsplit(":", 1)[1])


async def test_a_burst_with_duplicates_and_retries_makes_one_execution_each(cluster: Cluster) -> None:
    replicas, workers = await start(cluster, replicas=2, workers=2)
    texts = [f"ping 127.0.0.{10 + i}" for i in range(12)]
    sends = []
    for i, text in enumerate(texts):
        body = cluster.mention_body(text, event_id=f"EvBurst{i}")
        first, other = replicas[i % 2], replicas[(i + 1) % 2]
        sends += [cluster.event(first, body), cluster.event(other, body), cluster.event(other, body, retry=1)]
    assert set(await asyncio.gather(*sends)) == {200}

    rows = await cluster.wait_for(
        STEPS, lambda rows: len(rows) >= len(texts) and all(r[1] in FINISHED for r in rows)
    )
    await asyncio.sleep(1.0)  # a late duplicate would show up as an extra execution
    rows = await cluster.rows(STEPS)
    assert sorted(r[0] for r in rows) == sorted(texts)
    assert {(r[1], r[2], r[3]) for r in rows} == {("succeeded", "succeeded", 1)}
    assert {pid_of(r[4]) for r in rows} <= {w.popen.pid for w in workers}

    # metrics: what the replicas dispatched and what the workers ran add up to the burst
    assert await metric_sum(cluster, replicas, "opsconductor_tool_results", tool="network.ping") == 12
    assert await metric_sum(cluster, workers, "opsconductor_step_jobs", outcome="ok") == 12
    assert await metric_sum(cluster, replicas, "opsconductor_stage_seconds", stage="plan") == 12
    # logs: each request's id (the Slack message id) shows up in some worker's JSON log lines
    message_ids = {r[0] for r in await cluster.rows("SELECT message->>'message_id' FROM executions")}
    logged = {json.loads(line).get("request_id") for w in workers for line in w.log.read_text().splitlines()}
    assert message_ids <= logged


async def metric_sum(cluster: Cluster, procs: list[Proc], name: str, **labels: str) -> float:
    """Sum of a counter (or a histogram's count) over processes, for samples with these labels."""
    total = 0.0
    for proc in procs:
        async with cluster.http.get(proc.base + "/metrics") as response:
            text = await response.text()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                wanted = sample.name in (name + "_total", name + "_count")
                if wanted and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
    return total


async def test_a_worker_killed_mid_step_leaves_a_read_step_to_another_worker(cluster: Cluster) -> None:
    (replica,), workers = await start(cluster, replicas=1, workers=2)
    await cluster.event(replica, cluster.mention_body("ping 127.0.0.7 20 times", event_id="EvKillRead"))
    running = await cluster.wait_for(
        "SELECT claimed_by FROM execution_steps WHERE status = 'running'", lambda rows: len(rows) == 1
    )
    victim = next(w for w in workers if w.popen.pid == pid_of(running[0][0]))
    cluster.kill(victim)

    rows = await cluster.wait_for(STEPS, lambda rows: len(rows) == 1 and rows[0][1] in FINISHED)
    _, status, step_status, attempt, claimed_by, result = rows[0]
    assert (status, step_status, attempt) == ("succeeded", "succeeded", 2)
    assert pid_of(claimed_by) != victim.popen.pid
    assert [r["status"] for r in result["results"]] == ["ok"]


async def test_a_worker_killed_mid_step_fails_a_write_step_without_running_it_again(cluster: Cluster) -> None:
    (replica,), workers = await start(cluster, replicas=1, workers=2)
    await cluster.event(
        replica, cluster.mention_body("send a webhook to #ops saying kill-test", "EvKillWrite")
    )
    pending = await cluster.wait_for(
        "SELECT id FROM executions WHERE status = 'awaiting_approval'", lambda rows: len(rows) == 1
    )
    assert await cluster.click(replica, pending[0][0]) == 200
    await asyncio.wait_for(cluster.hooks.arrived.wait(), 30)  # the worker is inside the tool now
    running = await cluster.rows("SELECT claimed_by FROM execution_steps WHERE status = 'running'")
    victim = next(w for w in workers if w.popen.pid == pid_of(running[0][0]))
    cluster.kill(victim)

    rows = await cluster.wait_for(STEPS, lambda rows: len(rows) == 1 and rows[0][1] in FINISHED)
    _, status, step_status, attempt, _, result = rows[0]
    assert (status, step_status, attempt) == ("failed", "failed", 1)
    assert "stopped mid-step" in result["results"][0]["error"]
    await asyncio.sleep(1.0)
    assert [hook["message"] for hook in cluster.hooks.received] == ["kill-test"]


async def test_a_replica_restart_between_prompt_and_approval_loses_nothing(cluster: Cluster) -> None:
    (first, second), _ = await start(cluster, replicas=2, workers=1)
    cluster.hooks.hold_s = 0.0
    await cluster.event(
        first, cluster.mention_body("send a webhook to #ops saying after-restart", "EvRestart")
    )
    pending = await cluster.wait_for(
        "SELECT id FROM executions WHERE status = 'awaiting_approval'", lambda rows: len(rows) == 1
    )
    cluster.kill(first)
    restarted = await cluster.start("serve")

    clicks = await asyncio.gather(
        cluster.click(restarted, pending[0][0]), cluster.click(second, pending[0][0])
    )
    assert clicks == [200, 200]
    rows = await cluster.wait_for(STEPS, lambda rows: len(rows) == 1 and rows[0][1] in FINISHED)
    assert [(r[1], r[2], r[3]) for r in rows] == [("succeeded", "succeeded", 1)]
    await asyncio.sleep(1.0)
    assert [hook["message"] for hook in cluster.hooks.received] == ["after-restart"]
    waits = await metric_sum(
        cluster, [restarted, second], "opsconductor_approval_wait_seconds", decision="approved"
    )
    assert waits == 1  # the double click took effect once
