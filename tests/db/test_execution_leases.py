"""Driver leases on SQLite and PostgreSQL: renewal only by the driver, stalled runs taken over once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.executions import SqlExecutionStore
from db.models import Execution
from pipeline.contracts import ChatIdentity, InboundMessage, Plan, PlanStep, Principal

Sessions = async_sessionmaker[AsyncSession]
ALICE = Principal(subject="alice", roles=frozenset({"operator"}))
MESSAGE = InboundMessage(identity=ChatIdentity(platform="slack", tenant="T1", user_id="U1"), text="check")
PLAN = Plan(steps=(PlanStep(id="s0", tool="system.uptime"),))
LEASE_S = 60.0


def _now() -> datetime:
    return datetime.now(UTC)


async def _running(store: SqlExecutionStore, driver: str | None, until: datetime | None) -> str:
    execution_id = await store.create(PLAN, MESSAGE, ALICE, "running")
    if driver is not None and until is not None:
        assert await store.renew_lease(execution_id, driver, until)
    return execution_id


async def test_only_the_driver_renews_its_lease(sessions: Sessions) -> None:
    store = SqlExecutionStore(sessions)
    now = _now()
    execution_id = await _running(store, "a", now + timedelta(seconds=LEASE_S))
    assert await store.renew_lease(execution_id, "a", now + timedelta(seconds=2 * LEASE_S))
    assert not await store.renew_lease(execution_id, "b", now + timedelta(seconds=3 * LEASE_S))
    async with sessions() as session:
        row = await session.get(Execution, execution_id)
    assert row is not None and row.driver == "a"
    assert row.lease_expires_at == now + timedelta(seconds=2 * LEASE_S)
    assert not await store.renew_lease("0" * 32, "a", now)  # unknown execution


async def test_each_stalled_execution_is_taken_over_exactly_once(sessions: Sessions) -> None:
    store = SqlExecutionStore(sessions)
    now = _now()
    stalled = {await _running(store, "dead", now - timedelta(seconds=1)) for _ in range(3)}
    live = await _running(store, "alive", now + timedelta(seconds=LEASE_S))
    finished = await _running(store, "dead", now - timedelta(seconds=1))
    await store.set_status(finished, "succeeded")
    waiting = await store.create(PLAN, MESSAGE, ALICE, "awaiting_approval")

    stores = [SqlExecutionStore(sessions) for _ in range(4)]
    taken = await asyncio.gather(*(stores[i % 4].claim_stalled(now, f"r{i}", LEASE_S) for i in range(12)))
    flat = [execution_id for ids in taken for execution_id in ids]
    assert sorted(flat) == sorted(stalled)  # each once, nothing else
    assert not {live, finished, waiting} & set(flat)
    for i, ids in enumerate(taken):
        for execution_id in ids:
            assert not await store.renew_lease(execution_id, "dead", now + timedelta(seconds=LEASE_S))
            assert await store.renew_lease(execution_id, f"r{i}", now + timedelta(seconds=LEASE_S))
    assert await store.claim_stalled(now, "late", LEASE_S) == []  # the new leases are live


async def test_a_run_that_never_got_a_lease_is_stalled_once_it_is_old(sessions: Sessions) -> None:
    store = SqlExecutionStore(sessions)
    execution_id = await _running(store, None, None)
    assert await store.claim_stalled(_now(), "b", LEASE_S) == []  # just started: its driver may be alive
    later = _now() + timedelta(seconds=LEASE_S + 1)
    assert await store.claim_stalled(later, "b", LEASE_S) == [execution_id]
    assert await store.claim_stalled(later, "c", LEASE_S) == []
