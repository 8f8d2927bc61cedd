"""SqlExecutionStore on SQLite and PostgreSQL: exact round trips, claim-once, decide-once, expiry."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.executions import SqlExecutionStore
from pipeline.contracts import (
    AssetRef,
    ChatIdentity,
    InboundMessage,
    Intent,
    Interpretation,
    Plan,
    PlanStep,
    Principal,
    Risk,
    StepResult,
    TargetResult,
    TargetStatus,
    ToolOutput,
)
from pipeline.errors import ApprovalClosed

Sessions = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parents[2]
WEB = AssetRef(
    name="web-01",
    address="127.0.0.1",
    type="web_server",
    environment="production",
    tags={"team": "storefront"},
    services=("nginx",),
)


def _plan(steps: int = 2) -> Plan:
    return Plan(
        steps=tuple(
            PlanStep(
                id=f"s{i}",
                tool="automation.service_control",
                args={"service": "nginx", "action": "restart", "nested": {"n": [1, 2.5, None]}},
                targets=(WEB, AssetRef.raw("127.0.0.9")),
                depends_on=(f"s{i - 1}",) if i else (),
                timeout_s=12.5,
                risk=Risk.WRITE,
            )
            for i in range(steps)
        ),
        requires_approval=True,
        interpretation=Interpretation(intent=Intent.ACTION, category="automation", entities={"x": 1}),
        llm_calls=1,
        llm_tokens=412,
    )


def _message() -> InboundMessage:
    identity = ChatIdentity(platform="slack", tenant="T1", user_id="U1", display_name="Ann", email="a@x.io")
    return InboundMessage(
        identity=identity,
        text="restart nginx on web-01",
        channel="C1",
        thread="1700000000.0001",
        received_at=datetime(2026, 5, 1, 8, 0, 0, 123456, tzinfo=UTC),
    )


ALICE = Principal(subject="alice", roles=frozenset({"operator"}))


@pytest.fixture
def store(sessions: Sessions) -> SqlExecutionStore:
    return SqlExecutionStore(sessions, worker_id="test")


async def test_create_and_load_restore_plan_and_message_exactly(store: SqlExecutionStore) -> None:
    plan, message = _plan(), _message()
    execution_id = await store.create(plan, message, ALICE, "awaiting_approval")
    loaded = await store.load(execution_id)
    assert loaded == (plan, message, "awaiting_approval")
    assert await store.load("0" * 32) is None


async def test_status_timestamps_and_results_in_plan_order(store: SqlExecutionStore) -> None:
    execution_id = await store.create(_plan(3), _message(), ALICE, "planned")
    await store.set_status(execution_id, "running")
    ok = StepResult(
        step_id="s1",
        tool="automation.service_control",
        results=(
            TargetResult(
                target="web-01",
                status=TargetStatus.OK,
                duration_ms=3.5,
                output=ToolOutput(summary="restarted", stdout="ok\n", exit_code=0, data={"pid": 42}),
            ),
        ),
    )
    failed = StepResult(
        step_id="s0",
        tool="automation.service_control",
        results=(TargetResult(target="web-01", status=TargetStatus.UNREACHABLE, error="refused"),),
    )
    await store.record_step(execution_id, ok)
    await store.record_step(execution_id, failed)
    await store.set_status(execution_id, "failed")
    result = await store.result(execution_id)
    assert result is not None
    assert result.status == "failed"
    assert result.steps == (failed, ok)
    assert result.started_at is not None and result.finished_at is not None
    assert result.started_at.tzinfo is not None and result.started_at <= result.finished_at
    assert await store.result("0" * 32) is None


async def test_record_step_not_in_plan_is_kept(store: SqlExecutionStore) -> None:
    execution_id = await store.create(_plan(1), _message(), ALICE, "running")
    extra = StepResult(step_id="extra", tool="assets.query")
    await store.record_step(execution_id, extra)
    result = await store.result(execution_id)
    assert result is not None and result.steps == (extra,)


async def test_set_status_of_unknown_execution_fails(store: SqlExecutionStore) -> None:
    with pytest.raises(KeyError):
        await store.set_status("0" * 32, "running")


async def test_claim_step_exactly_once_under_concurrency(sessions: Sessions) -> None:
    stores = [SqlExecutionStore(sessions, worker_id=f"w{i}") for i in range(4)]
    execution_id = await stores[0].create(_plan(2), _message(), ALICE, "running")
    claims = await asyncio.gather(*(stores[i % 4].claim_step(execution_id, "s0") for i in range(40)))
    assert claims.count(True) == 1
    assert await stores[0].claim_step(execution_id, "s1")
    assert not await stores[1].claim_step(execution_id, "s1")
    assert not await stores[0].claim_step(execution_id, "unknown-step")


CLAIMER = textwrap.dedent(
    """
    import asyncio, sys
    from db.engine import create_engine, session_factory
    from db.executions import SqlExecutionStore

    async def main(url, execution_id, steps):
        engine = create_engine(url)
        store = SqlExecutionStore(session_factory(engine))
        won = [s for s in steps if await store.claim_step(execution_id, s)]
        print(" ".join(won))
        await engine.dispose()

    asyncio.run(main(sys.argv[1], sys.argv[2], [f"s{i}" for i in range(int(sys.argv[3]))]))
    """
)


async def test_claim_step_exactly_once_across_processes(store: SqlExecutionStore, migrated_url: str) -> None:
    steps = 20
    execution_id = await store.create(_plan(steps), _message(), ALICE, "running")
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLAIMER,
            migrated_url,
            execution_id,
            str(steps),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        for _ in range(4)
    ]
    outputs = [await proc.communicate() for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 4, [err.decode() for _, err in outputs]
    won = [step for out, _ in outputs for step in out.decode().split()]
    assert sorted(won) == sorted(f"s{i}" for i in range(steps))


async def test_decide_approval_has_exactly_one_winner(sessions: Sessions) -> None:
    store = SqlExecutionStore(sessions)
    execution_id = await store.create(_plan(), _message(), ALICE, "awaiting_approval")
    now = datetime.now(UTC)
    await store.open_approval(execution_id, "alice", True, now + timedelta(minutes=15))
    others = [SqlExecutionStore(sessions) for _ in range(3)]
    outcomes = await asyncio.gather(
        *(others[i % 3].decide_approval(execution_id, i % 2 == 0, f"bob{i}", now) for i in range(20))
    )
    winners = [record for record, won in outcomes if won]
    assert len(winners) == 1
    final = await store.approval(execution_id)
    assert final is not None and final == winners[0]
    assert final.state in ("approved", "rejected") and final.decided_at == now
    assert all(record == final for record, _ in outcomes[1:] if record.decided_by == final.decided_by)


async def test_decide_after_expiry_expires_without_winner(store: SqlExecutionStore) -> None:
    execution_id = await store.create(_plan(), _message(), ALICE, "awaiting_approval")
    expires = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    await store.open_approval(execution_id, "alice", False, expires)
    await store.open_approval(execution_id, "mallory", True, expires + timedelta(days=1))
    record, won = await store.decide_approval(execution_id, True, "bob", expires + timedelta(seconds=1))
    assert (record.state, won, record.requester, record.decided_by) == ("expired", False, "alice", None)
    record, won = await store.decide_approval(execution_id, True, "bob", expires - timedelta(hours=1))
    assert (record.state, won) == ("expired", False)


async def test_decided_approval_stays_decided(store: SqlExecutionStore) -> None:
    execution_id = await store.create(_plan(), _message(), ALICE, "awaiting_approval")
    now = datetime.now(UTC)
    await store.open_approval(execution_id, "alice", False, now + timedelta(minutes=5))
    first, won = await store.decide_approval(execution_id, False, "bob", now)
    assert (first.state, won) == ("rejected", True)
    second, won = await store.decide_approval(execution_id, True, "carol", now)
    assert (second, won) == (first, False)
    assert [r.execution_id for r in await store.pending_approvals(now)] == []


async def test_requests_decided_through_another_door_are_claimed_once_per_stage(sessions: Sessions) -> None:
    """A Slack request approved on the command line: the decision once approved, the outcome once
    ended, each to one of several sweeping replicas; a click in Slack itself owes nothing."""
    store = SqlExecutionStore(sessions)
    now = datetime.now(UTC)
    elsewhere, clicked, rejected = [
        await store.create(_plan(), _message(), ALICE, "awaiting_approval") for _ in range(3)
    ]
    for execution_id in (elsewhere, clicked, rejected):
        await store.open_approval(execution_id, "alice", False, now + timedelta(minutes=5))

    async def claims() -> list[tuple[str, str]]:
        replicas = [SqlExecutionStore(sessions) for _ in range(4)]
        sweeps = await asyncio.gather(*(replica.claim_untold(["slack"]) for replica in replicas))
        return sorted(found for sweep in sweeps for found in sweep)

    assert await claims() == []
    await store.decide_approval(elsewhere, True, "bob", now, via="console")
    await store.decide_approval(clicked, True, "bob", now, via="slack")
    await store.decide_approval(rejected, False, "bob", now, via="api")
    await store.set_status(rejected, "rejected")
    assert await store.claim_untold(["teams"]) == []  # a replica without Slack leaves them
    assert await claims() == sorted([(elsewhere, "decision"), (rejected, "outcome")])
    assert await claims() == []
    record = await store.approval(elsewhere)
    assert record is not None and record.decided_via == "console"
    await store.set_status(elsewhere, "running")
    assert await claims() == []
    await store.set_status(elsewhere, "succeeded")
    await store.set_status(clicked, "succeeded")
    assert await claims() == [(elsewhere, "outcome")]
    assert await claims() == []


async def test_unknown_approval(store: SqlExecutionStore) -> None:
    assert await store.approval("0" * 32) is None
    with pytest.raises(ApprovalClosed):
        await store.decide_approval("0" * 32, True, "bob", datetime.now(UTC))


async def test_expire_approvals_reports_each_expiry_once(sessions: Sessions) -> None:
    store = SqlExecutionStore(sessions)
    due = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    overdue = await store.create(_plan(), _message(), ALICE, "awaiting_approval")
    later = await store.create(_plan(), _message(), ALICE, "awaiting_approval")
    decided = await store.create(_plan(), _message(), ALICE, "awaiting_approval")
    await store.open_approval(overdue, "alice", False, due)
    await store.open_approval(later, "alice", False, due + timedelta(hours=1))
    await store.open_approval(decided, "alice", False, due)
    await store.decide_approval(decided, False, "bob", due - timedelta(minutes=1))
    sweeps = await asyncio.gather(
        *(SqlExecutionStore(sessions).expire_approvals(due + timedelta(seconds=1)) for _ in range(4))
    )
    assert sorted(x for sweep in sweeps for x in sweep) == [overdue]
    record = await store.approval(overdue)
    assert record is not None and record.state == "expired"
    loaded = await store.load(overdue)
    assert loaded is not None and loaded[2] == "expired"
    assert (await store.approval(later)).state == "pending"  # type: ignore[union-attr]
    assert (await store.approval(decided)).state == "rejected"  # type: ignore[union-attr]


async def test_each_step_keeps_the_digest_of_the_definition_it_runs(
    store: SqlExecutionStore, sessions: Sessions
) -> None:
    from sqlalchemy import select

    from db.models import ExecutionStep

    digest = "ab" * 32
    defined = PlanStep(
        id="s1", tool="app.cache_flush", args={"app": "shop"}, risk=Risk.WRITE, definition=digest
    )
    builtin = PlanStep(id="s2", tool="network.ping", depends_on=("s1",))
    plan = Plan(steps=(defined, builtin))
    execution_id = await store.create(plan, _message(), ALICE, "awaiting_approval")
    async with sessions() as session:
        rows = {r.step_id: r.definition for r in await session.scalars(select(ExecutionStep))}
    assert rows == {"s1": digest, "s2": ""}
    loaded = await store.load(execution_id)
    assert loaded is not None and loaded[0].steps[0].definition == digest
    unbound = defined.model_copy(update={"definition": ""})
    assert loaded[0].digest() == plan.digest() != Plan(steps=(unbound, builtin)).digest()
