"""Schedules on SQLite and PostgreSQL: one claim per tick across stores, state-change posting,
creation under the policy (changes only when schedulable, approved once), pause/resume/delete."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import create_engine, session_factory
from db.history import SqlHistory
from db.models import NetworkScan, PortScanResult
from db.network_results import SqlNetworkResults
from db.schedules import SqlScheduleStore
from domains.network.ports import NetworkResults
from pipeline.contracts import ApprovalPrompt, ChatIdentity, InboundMessage, Plan, PlanStep, Reply, Risk
from pipeline.policy import Policy
from pipeline.scheduler import Scheduler
from pipeline.schedules import Cadence, Destination, Schedule, changes, parse_every
from pipeline.stages.execute import Executor
from tests.fakes.chat import FakeChat

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def schedule(next_at: datetime, every_s: int = 60) -> Schedule:
    identity = ChatIdentity(platform="fakechat", tenant="T-test", user_id="olga")
    return Schedule(
        id="s" + next_at.strftime("%H%M%S%f"),
        name="watch",
        text="ping 127.0.0.1",
        plan=Plan(steps=(PlanStep(id="s1", tool="network.ping"),)),
        cadence=Cadence(every_s=every_s),
        destination=Destination(platform="slack", channel="C1"),
        owner="olga",
        message=InboundMessage(identity=identity, text="ping 127.0.0.1"),
        next_run_at=next_at,
        created_at=next_at,
    )


@pytest.fixture
async def second_engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """Another process's connection pool on the same database (a second replica)."""
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


async def test_each_tick_is_claimed_once_across_replicas(
    sessions: Sessions, second_engine: AsyncEngine
) -> None:
    stores = [SqlScheduleStore(sessions), SqlScheduleStore(session_factory(second_engine))]
    await stores[0].add(schedule(T0, every_s=60))
    sid = schedule(T0).id
    tick = T0
    for n in range(5):
        now = tick + timedelta(seconds=1)
        nexts = tick + timedelta(seconds=60)
        due = await stores[n % 2].due(now)
        assert [s.next_run_at for s in due] == [tick]
        won = await asyncio.gather(*(stores[i % 2].claim(sid, tick, nexts, f"r{i}") for i in range(6)))
        assert won.count(True) == 1, won
        assert not await stores[0].claim(sid, tick, nexts, "late")  # the same tick again: refused
        assert await stores[1].due(now) == []  # nothing due until the next tick
        tick = nexts
    stored = await stores[1].get(sid)
    assert stored is not None and stored.next_run_at == T0 + timedelta(minutes=5)


async def test_paused_and_deleted_schedules_are_not_due(sessions: Sessions) -> None:
    store = SqlScheduleStore(sessions)
    item = schedule(T0)
    await store.add(item)
    assert await store.set_state(item.id, "paused")
    assert await store.due(T0 + timedelta(hours=1)) == []
    assert not await store.claim(item.id, T0, T0 + timedelta(minutes=1), "r")
    assert await store.set_state(item.id, "active")
    assert [s.id for s in await store.due(T0)] == [item.id]
    assert await store.delete(item.id)
    assert await store.get(item.id) is None and not await store.delete(item.id)


# ---------------------------------------------------------------------- the scheduler, end to end


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, int]]:
    """A loopback port that a test opens and closes (the watched state)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    yield probe, port
    probe.close()


def message(text: str, user: str = "olga") -> InboundMessage:
    return InboundMessage(
        identity=ChatIdentity(platform="fakechat", tenant="T-test", user_id=user), text=text, channel="C-test"
    )


async def test_a_state_change_schedule_posts_exactly_on_the_transitions(
    sessions: Sessions, listener: tuple[socket.socket, int]
) -> None:
    sock, port = listener
    chat = FakeChat()
    clock = Clock(T0)
    scheduler = Scheduler(chat.kernel, SqlScheduleStore(sessions), clock=clock, by="replica-a")
    created, reply = await scheduler.create(
        message(f"scan port {port} on 127.0.0.1"), Cadence(every_s=60), Destination.parse("slack:C9")
    )
    assert created is not None and created.state == "active", reply.summary
    assert "every minute" in reply.summary and "slack C9" in reply.summary

    posted: list[str] = []
    for listening in (False, False, True, True, False, False):
        if listening:
            sock.listen()
        elif sock.fileno() != -1 and port_open(port):
            sock.close()
        clock.now += timedelta(seconds=60)
        ticks = await scheduler.due_ticks()
        assert len(ticks) == 1
        post = await scheduler.run_tick(ticks[0])
        posted.append(post.reply.summary if post else "")
        if post is not None:
            assert post.destination == Destination(platform="slack", channel="C9")
            assert post.message.channel == "C9" and post.message.identity.user_id == "olga"
    assert [bool(p) for p in posted] == [False, False, True, False, True, False]
    assert f"open none -> ok, open {port}" in posted[2]
    assert f"open {port} -> ok, open none" in posted[4]
    runs = [e for e in chat.audit.events() if e == "schedule.run"]
    assert len(runs) == 6 and len(chat.store.executions) == 6


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_changes_are_scheduled_only_when_schedulable_and_approved_once(sessions: Sessions) -> None:
    chat = FakeChat()
    store = SqlScheduleStore(sessions)
    scheduler = Scheduler(chat.kernel, store, clock=Clock(T0))
    restart = message("restart nginx on localhost")
    refused, reply = await scheduler.create(restart, Cadence(cron="0 7 * * *"), Destination.parse("console"))
    assert refused is None and "not mark it schedulable" in reply.summary

    policy = chat.kernel.policy
    chat.kernel.policy = Policy(
        policy.data.model_copy(update={"schedulable": ("automation.service_*",)}), policy.tools.values()
    )
    pending, reply = await scheduler.create(restart, Cadence(cron="0 7 * * *"), Destination.parse("console"))
    assert pending is not None and pending.state == "pending_approval", reply.summary
    assert pending.next_run_at == datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
    assert await store.due(T0 + timedelta(days=2)) == []  # nothing runs before the approval
    assert (await scheduler.change(pending.id, "active", message("resume", "olga"))).outcome == "refused"

    denied = await scheduler.approve(pending.id, message("approve", "vic"))
    assert denied.outcome == "refused"
    approved = await scheduler.approve(pending.id, message("approve", "alan"))
    assert approved.outcome == "approval_result" and "alan" in approved.summary
    again = await scheduler.approve(pending.id, message("approve", "alan"))
    assert "nothing to approve" in again.summary
    stored = await store.get(pending.id)
    assert stored is not None and stored.state == "active" and stored.approved_by == "alan"
    assert stored.plan.risk is Risk.WRITE
    assert {"schedule.created", "schedule.approval_denied", "schedule.approved"} <= set(chat.audit.events())


async def test_only_the_owner_or_a_manager_pauses_resumes_and_deletes(sessions: Sessions) -> None:
    chat = FakeChat()
    store = SqlScheduleStore(sessions)
    scheduler = Scheduler(chat.kernel, store, clock=Clock(T0))
    made, _ = await scheduler.create(
        message("ping localhost"), Cadence(every_s=300), Destination.parse("console")
    )
    assert made is not None
    assert (await scheduler.change(made.id, "paused", message("pause", "vic"))).outcome == "refused"
    assert (await scheduler.change(made.id, "paused", message("pause", "olga"))).outcome == "answer"
    assert await store.due(T0 + timedelta(hours=1)) == []
    assert (await scheduler.change(made.id, "active", message("resume", "alan"))).outcome == "answer"
    assert len(await store.due(T0 + timedelta(hours=1))) == 1
    assert (await scheduler.change(made.id, "deleted", message("delete", "olga"))).outcome == "answer"
    assert await store.all() == []
    events = chat.audit.events()
    assert (
        events.count("schedule.paused")
        == events.count("schedule.resumed")
        == events.count("schedule.deleted")
        == 1
    )


def test_cadences_and_what_counts_as_a_change() -> None:
    assert parse_every("5m") == 300 and parse_every("2h") == 7200 and parse_every("90") == 90
    with pytest.raises(ValueError):
        parse_every("soon")
    with pytest.raises(ValueError):
        Cadence(cron="61 * * * *")
    with pytest.raises(ValueError):
        Cadence(cron="0 7 * * *", every_s=60)
    morning = Cadence(cron="0 7 * * *")
    assert morning.next_after(T0) == T0 + timedelta(days=1)
    assert morning.next_after(T0 - timedelta(minutes=1)) == T0
    assert Cadence(every_s=300).describe() == "every 5 minutes"
    assert changes(None, {"ping a": "ok"}) == []  # a healthy first run is quiet
    assert changes(None, {"ping a": "unreachable"}) == ["ping a: unreachable"]
    assert changes({"ping a": "ok"}, {"ping a": "ok"}) == []
    assert changes({"ping a": "ok"}, {"ping a": "unreachable"}) == ["ping a: ok -> unreachable"]


async def test_a_chat_request_with_a_cadence_creates_a_schedule(sessions: Sessions) -> None:
    chat = FakeChat()
    store = SqlScheduleStore(sessions)
    chat.kernel.schedules = Scheduler(chat.kernel, store, clock=Clock(T0))
    reply = await chat.say("every 5 minutes ping localhost and tell #ops if it goes down")
    assert reply.outcome == "answer" and "every 5 minutes" in reply.summary, reply.summary
    (made,) = await store.all()
    assert made.cadence == Cadence(every_s=300) and made.notify == "change"
    assert made.destination == Destination(platform="fakechat", channel="#ops")
    assert [(s.tool, s.target_names) for s in made.plan.steps] == [("network.ping", ["localhost"])]
    assert made.owner == "olga" and made.text == "ping localhost"

    refused = await chat.say("every morning at 7 restart nginx on localhost")
    assert refused.outcome == "refused" and "schedulable" in refused.summary
    plain = await chat.say("ping localhost")
    assert plain.outcome == "answer" and len(await store.all()) == 1  # no cadence: runs now


async def test_a_scheduled_check_posts_an_anomaly_against_the_stored_baseline(sessions: Sessions) -> None:
    first, second = socket.socket(), socket.socket()
    for sock in (first, second):
        sock.bind(("127.0.0.1", 0))
    ports = sorted(s.getsockname()[1] for s in (first, second))
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():  # a week of scans that found nothing open
        for day in range(1, 11):
            scan = NetworkScan(kind="port_scan", status="completed")
            session.add(scan)
            await session.flush()
            at = now - timedelta(hours=12 * day)
            for port in ports:
                session.add(
                    PortScanResult(scan_id=scan.id, target="localhost", port=port, state="closed", at=at)
                )
    chat = FakeChat()
    kernel = chat.kernel  # with the results store production wires, so the run's scan is stored
    services = {NetworkResults: SqlNetworkResults(sessions)}
    kernel.executor = Executor(kernel.executor.registry, kernel.policy, chat.store, services=services)
    scheduler = Scheduler(kernel, SqlScheduleStore(sessions), history=SqlHistory(sessions))
    text = f"scan ports {ports[0]},{ports[1]} on 127.0.0.1"
    made, reply = await scheduler.create(message(text), Cadence(every_s=1), Destination.parse("console"))
    assert made is not None, reply.summary
    try:
        for sock in (first, second):
            sock.listen()
        (tick,) = await scheduler.due_ticks()
        post = await scheduler.run_tick(tick)
    finally:
        first.close()
        second.close()
    assert post is not None
    assert "anomaly open_ports localhost: flagged" in post.reply.summary
    assert "localhost has 2 open ports against a 7-day median of 0" in post.reply.summary


async def test_schedules_are_listed_paused_resumed_and_deleted_from_chat(sessions: Sessions) -> None:
    chat = FakeChat()
    store = SqlScheduleStore(sessions)
    chat.kernel.schedules = Scheduler(chat.kernel, store, clock=Clock(T0))
    for text in ("every night at 2 ping localhost", "check disk on localhost every 2 hours"):
        assert (await chat.say(text)).outcome == "answer"
    (ping, disk) = sorted(await store.all(), key=lambda s: s.number)
    assert (ping.number, disk.number) == (1, 2) and ping.cadence == Cadence(cron="0 2 * * *")

    mine = await chat.say("which schedules do I have?")
    assert isinstance(mine, Reply) and mine.outcome == "answer" and mine.summary.startswith("2 schedules")
    (table,) = mine.sections[0].tables
    assert [row[0] for row in table.rows] == ["1", "2"] and table.rows[0][4] == "fakechat C-test (on change)"
    theirs = await chat.say("list my schedules", user="vic")
    assert isinstance(theirs, Reply) and "no schedules of yours" in theirs.summary

    refused = await chat.say("pause the disk check schedule", user="vic")  # a viewer, not the owner
    assert refused.outcome == "refused" and (await store.get(disk.id)).state == "active"  # type: ignore[union-attr]
    paused = await chat.say("pause the disk check schedule")
    assert isinstance(paused, Reply) and paused.summary == 'Schedule 2 ("check disk on localhost") is paused.'
    assert (await store.get(disk.id)).state == "paused"  # type: ignore[union-attr]
    resumed = await chat.say("resume schedule 2", user="alan")  # an approver may manage anyone's
    assert resumed.outcome == "answer" and (await store.get(disk.id)).state == "active"  # type: ignore[union-attr]

    which = await chat.say("pause the schedule")
    assert which.outcome == "clarify" and "2 schedules match" in which.summary  # type: ignore[union-attr]
    missing = await chat.say("delete schedule 9")
    assert missing.outcome == "clarify" and 'No schedule matches "schedule 9"' in missing.summary  # type: ignore[union-attr]

    deleted = await chat.say("delete the nightly ping")
    assert deleted.outcome == "answer" and [s.id for s in await store.all()] == [disk.id]
    events = chat.audit.events()
    assert (
        events.count("schedule.paused")
        == events.count("schedule.resumed")
        == events.count("schedule.deleted")
        == 1
    )

    # a verb that is also a tool's action, with no schedule meant, is planned as usual
    stop = await chat.say("stop nginx on localhost")
    assert isinstance(stop, ApprovalPrompt) and stop.plan.steps[0].tool == "automation.service_control"
    assert [s.state for s in await store.all()] == ["active"]


async def test_schedule_numbers_stay_unique_when_replicas_add_at_once(
    sessions: Sessions, second_engine: AsyncEngine
) -> None:
    stores = [SqlScheduleStore(sessions), SqlScheduleStore(session_factory(second_engine))]
    made = await asyncio.gather(*(stores[n % 2].add(schedule(T0 + timedelta(seconds=n))) for n in range(8)))
    assert sorted(s.number for s in made) == list(range(1, 9))
    assert sorted(s.number for s in await stores[0].all()) == list(range(1, 9))
