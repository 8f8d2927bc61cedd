"""History questions answered from seeded results, executions and approvals (SQLite and
PostgreSQL), with a chart checked pixel by pixel."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from PIL import Image
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.charts import MatplotlibCharts
from db.executions import SqlExecutionStore
from db.history import SqlHistory
from db.models import BandwidthTest, ConnectivityTest, Execution, ExecutionStep, NetworkScan, PortScanResult
from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import load_inventory
from domains.catalog import build_registry
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
)
from pipeline.historian import Historian
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
INVENTORY = Path(__file__).parents[1] / "data" / "inventory_fixture_copy.yaml"
OLGA = Principal(subject="olga", roles=frozenset({"operator"}))


def historian(
    sessions: Sessions, charts: Path | None = None, clock: Callable[[], datetime] = lambda: NOW
) -> Historian:
    registry = build_registry()
    policy = Policy.default(registry)
    directory = InMemoryAssetDirectory(load_inventory(INVENTORY))
    planner = HybridPlanner(registry, directory, permitted_tools=policy.permitted_tools)
    renderer = MatplotlibCharts(charts) if charts is not None else None
    return Historian(SqlHistory(sessions), planner, renderer, clock=clock)


def ask(text: str, user: str = "olga") -> InboundMessage:
    return InboundMessage(identity=ChatIdentity(platform="console", user_id=user), text=text)


async def seed_pings(sessions: Sessions, target: str, values: list[tuple[datetime, float]]) -> None:
    async with sessions() as session, session.begin():
        scan = NetworkScan(kind="ping", status="completed")
        session.add(scan)
        await session.flush()
        for at, rtt in values:
            session.add(
                ConnectivityTest(
                    scan_id=scan.id, target=target, sent=3, received=3, rtt_avg_ms=rtt, reachable=True, at=at
                )
            )


async def test_a_latency_trend_is_summarised_charted_and_its_spike_flagged(
    sessions: Sessions, tmp_path: Path
) -> None:
    noise = random.Random(7)
    week = [(NOW - timedelta(hours=h), 2.0 + noise.uniform(-0.2, 0.2)) for h in range(168, 0, -2)]
    await seed_pings(sessions, "db-01", [*week, (NOW - timedelta(minutes=5), 12.3)])
    await seed_pings(sessions, "db-02", [(NOW - timedelta(days=30), 1.0)])  # outside the window

    reply = await historian(sessions, tmp_path).answer(
        ask("how has latency to db-01 changed this week?"), OLGA
    )
    assert reply is not None and reply.outcome == "answer"
    assert reply.summary.startswith("Latency over the last week: db-01 ")
    assert "latency to db-01 is 6." in reply.summary and "x its 7-day median" in reply.summary
    assert [s.title for s in reply.sections] == ["db-01"]
    assert dict(reply.sections[0].facts)["samples"] == str(len(week) + 1)

    (chart,) = reply.files
    pixels = imread(chart)  # height x width x RGBA, floats 0..1
    assert pixels.shape[:2] == (400, 800)
    assert pixels[..., :3].std() > 0.05  # not blank
    line = np.all(np.abs(pixels[..., :3] - (0x1F / 255, 0x77 / 255, 0xB4 / 255)) < 0.08, axis=-1)
    assert line.sum() > 500  # matplotlib's first colour: the latency line is drawn
    red = (pixels[..., 0] > 0.8) & (pixels[..., 1] < 0.2) & (pixels[..., 2] < 0.2)
    assert red.sum() > 10  # the flagged spike


async def test_no_stored_results_says_how_to_build_a_history(sessions: Sessions) -> None:
    reply = await historian(sessions).answer(ask("how has latency to db-01 changed this week?"), OLGA)
    assert reply is not None and "no stored latency for db-01" in reply.summary and not reply.files


async def seed_scan(sessions: Sessions, target: str, at: datetime, open_ports: set[int]) -> None:
    async with sessions() as session, session.begin():
        scan = NetworkScan(kind="port_scan", status="completed", started_at=at)
        session.add(scan)
        await session.flush()
        for port in (22, 80, 443, 8080):
            state = "open" if port in open_ports else "closed"
            session.add(PortScanResult(scan_id=scan.id, target=target, port=port, state=state, at=at))


async def test_ports_opened_on_the_web_tier_since_yesterday(sessions: Sessions) -> None:
    two_days_ago, this_morning = NOW - timedelta(days=2), NOW - timedelta(hours=3)
    await seed_scan(sessions, "web-01", two_days_ago, {22, 443})
    await seed_scan(sessions, "web-01", this_morning, {22, 443, 8080})
    await seed_scan(sessions, "web-02", two_days_ago, {22, 80})
    await seed_scan(sessions, "web-02", this_morning, {22})
    await seed_scan(sessions, "db-01", this_morning, {22})

    reply = await historian(sessions).answer(ask("which ports opened on the web tier since yesterday?"), OLGA)
    assert reply is not None
    assert reply.summary.startswith("Ports opened since yesterday: web-01: 8080. Closed: web-02: 80")
    assert [s.title for s in reply.sections] == ["web-01", "web-02"]


async def seed_run(
    sessions: Sessions, who: str, text: str, step: PlanStep, at: datetime, approver: str | None = None
) -> str:
    store = SqlExecutionStore(sessions)
    message = InboundMessage(identity=ChatIdentity(platform="slack", tenant="T1", user_id=who), text=text)
    execution_id = await store.create(Plan(steps=(step,)), message, Principal(subject=who), "running")
    if approver is not None:
        await store.open_approval(execution_id, who, False, at + timedelta(minutes=15))
        await store.decide_approval(execution_id, True, approver, at)
    assert await store.claim_step(execution_id, step.id)
    results = tuple(TargetResult(target=t.name, status=TargetStatus.OK) for t in step.targets)
    await store.record_step(execution_id, StepResult(step_id=step.id, tool=step.tool, results=results))
    await store.set_status(execution_id, "succeeded")
    async with sessions() as session, session.begin():
        await session.execute(update(Execution).where(Execution.id == execution_id).values(created_at=at))
        await session.execute(
            update(ExecutionStep).where(ExecutionStep.execution_id == execution_id).values(finished_at=at)
        )
    return execution_id


def host(name: str) -> AssetRef:
    return AssetRef(name=name, address="192.0.2.1")


def restart(target: str) -> PlanStep:
    args = {"service": "nginx", "action": "restart"}
    return PlanStep(
        id="s1", tool="automation.service_control", args=args, targets=(host(target),), risk=Risk.WRITE
    )


async def test_when_nginx_was_last_restarted_and_by_whom(sessions: Sessions) -> None:
    await seed_run(sessions, "carol", "restart nginx on web-02", restart("web-02"), NOW - timedelta(days=5))
    last = await seed_run(
        sessions,
        "alice",
        "restart nginx on web-02",
        restart("web-02"),
        NOW - timedelta(days=1),
        approver="bob",
    )
    await seed_run(sessions, "dave", "restart nginx on web-03", restart("web-03"), NOW - timedelta(hours=1))

    reply = await historian(sessions).answer(
        ask("when was nginx last restarted on web-02 and by whom?"), OLGA
    )
    assert reply is not None
    assert reply.summary == (
        "Nginx restarted on web-02 last at 2026-12-03 12:00 UTC by alice, approved by bob "
        f"(execution {last})."
    )
    never = await historian(sessions).answer(ask("when was nginx last stopped on web-02?"), OLGA)
    assert never is not None and never.summary.startswith("I have no record of nginx stopped on web-02")


async def test_what_did_i_run_yesterday(sessions: Sessions) -> None:
    ping = PlanStep(id="s1", tool="network.ping", targets=(host("db-01"),))
    yesterday = NOW - timedelta(days=1)
    await seed_run(sessions, "olga", "ping db-01", ping, yesterday.replace(hour=9))
    await seed_run(sessions, "olga", "restart nginx on web-02", restart("web-02"), yesterday.replace(hour=15))
    await seed_run(sessions, "olga", "ping db-01 again", ping, NOW - timedelta(hours=1))  # today
    await seed_run(sessions, "alice", "ping web-01", ping, yesterday.replace(hour=10))  # someone else

    reply = await historian(sessions).answer(ask("what did I run yesterday?"), OLGA)
    assert reply is not None
    lines = reply.summary.splitlines()
    assert lines[0] == "You made 2 requests yesterday:"
    assert lines[1].startswith("12-03 09:00 ping db-01 — succeeded")
    assert lines[2].startswith("12-03 15:00 restart nginx on web-02 — succeeded")


@pytest.mark.parametrize("text", ["ping db-01", "restart nginx on web-02", "what is the latency to db-01?"])
async def test_requests_that_ask_nothing_about_the_past_are_left_to_the_planner(
    sessions: Sessions, text: str
) -> None:
    assert await historian(sessions).answer(ask(text), OLGA) is None


async def seed_throughput(
    sessions: Sessions, source: str, target: str, values: list[tuple[datetime, float]]
) -> None:
    async with sessions() as session, session.begin():
        scan = NetworkScan(kind="bandwidth", status="completed")
        session.add(scan)
        await session.flush()
        for at, mbps in values:
            session.add(
                BandwidthTest(
                    scan_id=scan.id, source=source, target=target, method="iperf3",
                    bytes=int(mbps * 125_000 * 5), seconds=5.0, mbps=mbps, at=at,
                )
            )  # fmt: skip


async def test_bandwidth_between_two_hosts_is_charted_per_direction(
    sessions: Sessions, tmp_path: Path
) -> None:
    noise = random.Random(11)
    hours = range(160, 0, -4)
    dropping = [
        (NOW - timedelta(hours=h), (940.0 if h > 24 else 610.0) + noise.uniform(-5, 5)) for h in hours
    ]
    await seed_throughput(sessions, "web-01", "db-01", dropping)
    await seed_throughput(sessions, "db-01", "web-01", [(NOW - timedelta(hours=h), 900.0) for h in hours])
    await seed_throughput(sessions, "web-01", "api-01", [(NOW - timedelta(hours=h), 300.0) for h in hours])

    reply = await historian(sessions, tmp_path).answer(
        ask("how has the network speed between web-01 and db-01 evolved this week?"), OLGA
    )

    assert reply is not None and reply.outcome == "answer"
    assert reply.summary.startswith("Throughput over the last week: db-01 → web-01 900 -> 900 Mbit/s (+0%); ")
    assert "web-01 → db-01 94" in reply.summary and "-> 61" in reply.summary  # the drop, from stored tests
    assert [s.title for s in reply.sections] == ["db-01 → web-01", "web-01 → db-01"]  # api-01 is not asked
    assert dict(reply.sections[1].facts)["samples"] == str(len(dropping))
    (chart,) = reply.files
    with Image.open(chart) as image:
        image.load()  # decodes the whole PNG
        assert (image.format, image.size) == ("PNG", (800, 400))
        colours = {rgb for _count, rgb in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
    assert (0x1F, 0x77, 0xB4) in colours and (0xFF, 0x7F, 0x0E) in colours  # one line per direction

    one_end = await historian(sessions).answer(
        ask("how did throughput from web-01 change over the past 3 days?"), OLGA
    )
    assert one_end is not None  # every pair touching web-01, within the three days asked
    assert [s.title for s in one_end.sections] == ["db-01 → web-01", "web-01 → api-01", "web-01 → db-01"]
    assert {dict(s.facts)["samples"] for s in one_end.sections} == {str(len([h for h in hours if h <= 72]))}
