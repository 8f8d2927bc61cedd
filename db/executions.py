"""`SqlExecutionStore`: executions, steps, results and approvals in SQL (implements ExecutionStore).

Atomicity comes from conditional UPDATEs, so it holds across processes and replicas:
`claim_step` wins only while the step is still 'planned'; `decide_approval` wins only
while the approval is still 'pending'; `renew_lease` only for the execution's own driver
(or when it has none); `claim_stalled` only while the lease is still lapsed. Plans and
messages are stored as JSON (`model_dump(mode="json")`) and restored exactly.

With a `PlanSeal` (the app always gives one), every text column holds only what the
redactor leaves of it (request, message, plan, step arguments and results); a plan whose
masking changed it is kept whole only sealed with the credential key (`sealed_plan`), and
`load` — what runs a plan — opens it (db/sealing.py).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import begin_immediate, dialect_insert, rowcount, store_errors
from db.models import Approval, Execution, ExecutionStep
from db.sealing import PlanSeal
from db.types import new_id, utcnow
from pipeline.contracts import (
    UNDOING,
    ExecutionResult,
    ExecutionStatus,
    InboundMessage,
    Plan,
    PlanStep,
    Principal,
    StepResult,
    TargetStatus,
)
from pipeline.elsewhere import tell_stage
from pipeline.errors import ApprovalClosed, StoreUnavailable
from pipeline.ports import ApprovalRecord, ApprovalState, PendingApproval, TellStage

_T = TypeVar("_T")
FINISHED = {"succeeded", "failed", "rejected", "expired", "refused", "answered"}


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def idempotency_key(execution_id: str, step_id: str) -> str:
    return f"{execution_id}:{step_id}"


def step_status(result: StepResult) -> str:
    """The stored status of a step given its result."""
    if result.results and all(r.status is TargetStatus.SKIPPED for r in result.results):
        return "skipped"
    return "succeeded" if result.ok else "failed"


class SqlExecutionStore:
    """ExecutionStore on SQLAlchemy; one instance per process, safe to share between tasks."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        worker_id: str | None = None,
        *,
        seal: PlanSeal | None = None,
    ) -> None:
        self._sessions = sessions
        self.worker_id = worker_id or default_worker_id()
        self._seal = seal

    async def create(
        self,
        plan: Plan,
        message: InboundMessage,
        principal: Principal,
        status: ExecutionStatus,
        approval: PendingApproval | None = None,
    ) -> str:
        execution_id = new_id()
        now = utcnow()
        shown_plan, sealed = (
            self._seal.seal(execution_id, plan) if self._seal else (plan.model_dump(mode="json"), None)
        )
        execution = Execution(
            id=execution_id,
            request=self._mask(message.text),
            platform=message.identity.platform,
            tenant=message.identity.tenant,
            user_id=message.identity.user_id,
            channel=message.channel,
            thread=message.thread,
            principal=principal.subject,
            status=status,
            outcome=plan.outcome,
            risk=plan.risk.value,
            plan=shown_plan,
            sealed_plan=sealed,
            message=self._mask(message.model_dump(mode="json")),
            created_at=now,
            started_at=now if status == "running" else None,
            finished_at=now if status in FINISHED else None,
        )
        shown_steps = Plan.model_validate(shown_plan).steps
        steps = [_step_row(execution_id, position, step) for position, step in enumerate(shown_steps)]
        async with store_errors(), self._sessions.begin() as session:
            session.add(execution)
            await session.flush()
            session.add_all(steps)
            if approval is not None:
                session.add(
                    Approval(
                        execution_id=execution_id,
                        state="pending",
                        requester=approval.requester,
                        four_eyes=approval.four_eyes,
                        created_at=now,
                        expires_at=approval.expires_at,
                        plan_digest=approval.digest,
                    )
                )
        return execution_id

    async def load(self, execution_id: str) -> tuple[Plan, InboundMessage, str] | None:
        async with store_errors(), self._sessions() as session:
            row = await session.get(Execution, execution_id)
        if row is None:
            return None
        if row.sealed_plan and self._seal is None:
            raise StoreUnavailable(
                f"execution {execution_id} has a sealed plan and no credential key to open it"
            )
        plan = (
            self._seal.open(execution_id, row.sealed_plan)
            if row.sealed_plan and self._seal
            else Plan.model_validate(row.plan)
        )
        return plan, InboundMessage.model_validate(row.message), row.status

    def _mask(self, value: _T) -> _T:
        return self._seal.mask(value) if self._seal else value

    async def undone_by(self, execution_id: str) -> tuple[str, ExecutionStatus] | None:
        query = (
            select(Execution.id, Execution.status)
            .where(Execution.plan["undo_of"].as_string() == execution_id, Execution.status.in_(UNDOING))
            .order_by(Execution.created_at.desc())
            .limit(1)
        )
        async with store_errors(), self._sessions() as session:
            row = (await session.execute(query)).first()
        return (row[0], cast(ExecutionStatus, row[1])) if row is not None else None

    async def set_status(self, execution_id: str, status: ExecutionStatus) -> None:
        now = utcnow()
        values: dict[str, Any] = {"status": status}
        async with store_errors(), self._sessions.begin() as session:
            if status == "running":
                await session.execute(
                    update(Execution)
                    .where(Execution.id == execution_id, Execution.started_at.is_(None))
                    .values(started_at=now)
                )
            if status in FINISHED:
                values["finished_at"] = now
            result = await session.execute(
                update(Execution).where(Execution.id == execution_id).values(**values)
            )
            if rowcount(result) == 0:
                raise KeyError(f"unknown execution {execution_id}")

    async def claim_step(self, execution_id: str, step_id: str) -> bool:
        now = utcnow()
        statement = (
            update(ExecutionStep)
            .where(
                ExecutionStep.idempotency_key == idempotency_key(execution_id, step_id),
                ExecutionStep.status == "planned",
            )
            .values(
                status="running",
                attempt=ExecutionStep.attempt + 1,
                claimed_by=self.worker_id,
                claimed_at=now,
                started_at=now,
            )
        )
        async with store_errors(), self._sessions.begin() as session:
            return rowcount(await session.execute(statement)) == 1

    async def record_step(self, execution_id: str, result: StepResult) -> None:
        values = {
            "result": self._mask(result.model_dump(mode="json")),
            "status": step_status(result),
            "finished_at": utcnow(),
        }
        key = idempotency_key(execution_id, result.step_id)
        async with store_errors(), self._sessions.begin() as session:
            updated = await session.execute(
                update(ExecutionStep).where(ExecutionStep.idempotency_key == key).values(**values)
            )
            if rowcount(updated) == 0:  # a step the plan did not list (e.g. added by the executor)
                position = await _next_position(session, execution_id)
                session.add(
                    ExecutionStep(
                        execution_id=execution_id,
                        step_id=result.step_id,
                        position=position,
                        tool=result.tool,
                        idempotency_key=key,
                        **values,
                    )
                )

    async def result(self, execution_id: str) -> ExecutionResult | None:
        async with store_errors(), self._sessions() as session:
            execution = await session.get(Execution, execution_id)
            if execution is None:
                return None
            rows = await session.scalars(
                select(ExecutionStep)
                .where(ExecutionStep.execution_id == execution_id, ExecutionStep.result.is_not(None))
                .order_by(ExecutionStep.position, ExecutionStep.id)
            )
            steps = tuple(StepResult.model_validate(row.result) for row in rows)
        return ExecutionResult(
            execution_id=execution_id,
            status=cast(ExecutionStatus, execution.status),
            steps=steps,
            started_at=execution.started_at,
            finished_at=execution.finished_at,
        )

    async def open_approval(
        self, execution_id: str, requester: str, four_eyes: bool, expires_at: datetime, digest: str = ""
    ) -> None:
        """Open a pending approval bound to a plan digest; opening it again keeps the first one."""
        values = {
            "execution_id": execution_id,
            "state": "pending",
            "requester": requester,
            "four_eyes": four_eyes,
            "created_at": utcnow(),
            "expires_at": expires_at,
            "plan_digest": digest,
        }
        async with store_errors(), self._sessions.begin() as session:
            await session.execute(dialect_insert(session)(Approval).values(**values).on_conflict_do_nothing())

    async def decide_approval(
        self, execution_id: str, approve: bool, decided_by: str, now: datetime, via: str = ""
    ) -> tuple[ApprovalRecord, bool]:
        """Exactly one concurrent caller wins; past `expires_at` the approval becomes expired.

        Raises ApprovalClosed for an unknown approval.
        """
        # Writes come first so SQLite takes its write lock before reading (no stale snapshot).
        pending = (Approval.execution_id == execution_id, Approval.state == "pending")
        state = "approved" if approve else "rejected"
        async with store_errors(), self._sessions.begin() as session:
            await session.execute(
                update(Approval).where(*pending, Approval.expires_at <= now).values(state="expired")
            )
            decided = await session.execute(
                update(Approval)
                .where(*pending, Approval.expires_at > now)
                .values(state=state, decided_by=decided_by, decided_at=now, decided_via=via)
            )
            row = await session.get(Approval, execution_id)
            if row is None:
                raise ApprovalClosed(f"no approval for execution {execution_id}")
            return _record(row), rowcount(decided) == 1

    async def expire_approvals(self, now: datetime) -> list[str]:
        """Move pending approvals past their expiry to expired; return the ids this call moved.

        Each row is moved by its own conditional UPDATE, so with several replicas
        sweeping at once every expiry is reported by exactly one of them.
        """
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            due = await session.scalars(
                select(Approval.execution_id).where(Approval.state == "pending", Approval.expires_at <= now)
            )
            moved = []
            for execution_id in list(due):
                result = await session.execute(
                    update(Approval)
                    .where(Approval.execution_id == execution_id, Approval.state == "pending")
                    .values(state="expired")
                )
                if rowcount(result) == 1:
                    moved.append(execution_id)
                    await session.execute(
                        update(Execution)
                        .where(Execution.id == execution_id)
                        .values(status="expired", finished_at=now)
                    )
            return moved

    async def claim_untold(self, platforms: Collection[str]) -> list[tuple[str, TellStage]]:
        """Requests from `platforms` decided through another door, whose requester is owed the
        decision or the outcome; each stage taken by one conditional UPDATE (one replica)."""
        if not platforms:
            return []
        owed = (
            Approval.decided_via != "",
            Approval.decided_via != Execution.platform,
            Approval.requester_told != "outcome",
            Execution.platform.in_(list(platforms)),
        )
        query = (
            select(Approval.execution_id, Approval.state, Execution.status, Approval.requester_told)
            .join(Execution, Execution.id == Approval.execution_id)
            .where(*owed)
        )
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            claimed: list[tuple[str, TellStage]] = []
            for execution_id, state, status, told in (await session.execute(query)).all():
                stage = tell_stage(state, status, told)
                if stage is None:
                    continue
                taken = await session.execute(
                    update(Approval)
                    .where(Approval.execution_id == execution_id, Approval.requester_told == told)
                    .values(requester_told=stage)
                )
                if rowcount(taken) == 1:
                    claimed.append((execution_id, stage))
            return claimed

    async def request_cancel(self, execution_id: str, by: str) -> bool:
        """Note that `by` cancels the running execution; False when it is not running or a
        cancel was requested already (one conditional write: the first request wins)."""
        statement = (
            update(Execution)
            .where(
                Execution.id == execution_id,
                Execution.status == "running",
                Execution.cancel_requested_by.is_(None),
            )
            .values(cancel_requested_by=by)
        )
        async with store_errors(), self._sessions.begin() as session:
            result = await session.execute(statement)
        return bool(cast(Any, result).rowcount)

    async def cancel_requested(self, execution_id: str) -> str | None:
        """Who asked to cancel the execution, or None."""
        query = select(Execution.cancel_requested_by).where(Execution.id == execution_id)
        async with store_errors(), self._sessions() as session:
            return cast(str | None, await session.scalar(query))

    async def renew_lease(self, execution_id: str, driver: str, until: datetime) -> bool:
        """Hold the driver lease until `until`; False when another driver holds it."""
        statement = (
            update(Execution)
            .where(Execution.id == execution_id, or_(Execution.driver.is_(None), Execution.driver == driver))
            .values(driver=driver, lease_expires_at=until)
        )
        async with store_errors(), self._sessions.begin() as session:
            return rowcount(await session.execute(statement)) == 1

    async def claim_stalled(self, now: datetime, driver: str, lease_s: float) -> list[str]:
        """Take over running executions whose lease lapsed; ids this call took (each once).

        A running execution that never got a lease (its replica died right after starting
        it) counts as stalled once it started more than `lease_s` ago.
        """
        lapsed = or_(
            Execution.lease_expires_at < now,
            and_(
                Execution.lease_expires_at.is_(None),
                Execution.started_at < now - timedelta(seconds=lease_s),
            ),
        )
        stalled = and_(Execution.status == "running", lapsed)
        until = now + timedelta(seconds=lease_s)
        async with store_errors(), self._sessions.begin() as session:
            await begin_immediate(session)
            due = list(await session.scalars(select(Execution.id).where(stalled)))
            taken = []
            for execution_id in due:
                result = await session.execute(
                    update(Execution)
                    .where(Execution.id == execution_id, stalled)
                    .values(driver=driver, lease_expires_at=until)
                )
                if rowcount(result) == 1:
                    taken.append(execution_id)
            return taken

    async def approval(self, execution_id: str) -> ApprovalRecord | None:
        async with store_errors(), self._sessions() as session:
            row = await session.get(Approval, execution_id)
        return _record(row) if row is not None else None

    async def pending_approvals(self, now: datetime) -> Sequence[ApprovalRecord]:
        """Approvals still open at `now` (for reminders and start-up re-rendering)."""
        async with store_errors(), self._sessions() as session:
            rows = await session.scalars(
                select(Approval)
                .where(Approval.state == "pending", Approval.expires_at > now)
                .order_by(Approval.expires_at)
            )
            return [_record(row) for row in rows]


def _step_row(execution_id: str, position: int, step: PlanStep) -> ExecutionStep:
    data = step.model_dump(mode="json")
    return ExecutionStep(
        execution_id=execution_id,
        step_id=step.id,
        position=position,
        tool=step.tool,
        args=data["args"],
        targets=data["targets"],
        depends_on=data["depends_on"],
        risk=step.risk.value,
        timeout_s=step.timeout_s,
        definition=step.definition,
        status="planned",
        idempotency_key=idempotency_key(execution_id, step.id),
    )


def _record(row: Approval) -> ApprovalRecord:
    return ApprovalRecord(
        execution_id=row.execution_id,
        state=cast(ApprovalState, row.state),
        requester=row.requester,
        four_eyes=row.four_eyes,
        expires_at=row.expires_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        digest=row.plan_digest,
        decided_via=row.decided_via,
    )


async def _next_position(session: AsyncSession, execution_id: str) -> int:
    positions = await session.scalars(
        select(ExecutionStep.position).where(ExecutionStep.execution_id == execution_id)
    )
    return max(positions, default=-1) + 1
