"""In-memory fakes of the kernel's ports (plain classes), for fast pipeline tests.

They follow the ports' contracts, including the atomic parts: `claim_step`,
`decide_approval` and `claim_stalled` succeed once. The SQL implementations are tested against the same
behaviour on SQLite and PostgreSQL in tests/db.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeline.contracts import (
    UNDOING,
    ChatIdentity,
    ExecutionResult,
    ExecutionStatus,
    InboundMessage,
    Plan,
    Principal,
    StepResult,
    new_id,
)
from pipeline.elsewhere import tell_stage
from pipeline.ports import ApprovalRecord, PendingApproval, TellStage


@dataclass
class _Execution:
    plan: Plan
    message: InboundMessage
    principal: Principal
    status: ExecutionStatus
    claimed: set[str] = field(default_factory=set)
    steps: dict[str, StepResult] = field(default_factory=dict)
    driver: str | None = None
    lease_expires_at: datetime | None = None
    cancel_requested_by: str | None = None


class MemoryExecutionStore:
    def __init__(self) -> None:
        self.executions: dict[str, _Execution] = {}
        self.approvals: dict[str, ApprovalRecord] = {}
        self.told: dict[str, str] = {}  # how far each requester was told of a decision made elsewhere
        self.claims = 0
        self._lock = asyncio.Lock()

    async def create(
        self,
        plan: Plan,
        message: InboundMessage,
        principal: Principal,
        status: ExecutionStatus,
        approval: PendingApproval | None = None,
    ) -> str:
        execution_id = new_id()
        self.executions[execution_id] = _Execution(plan, message, principal, status)
        if approval is not None:
            await self.open_approval(
                execution_id, approval.requester, approval.four_eyes, approval.expires_at, approval.digest
            )
        return execution_id

    async def load(self, execution_id: str) -> tuple[Plan, InboundMessage, str] | None:
        ex = self.executions.get(execution_id)
        return (ex.plan, ex.message, ex.status) if ex else None

    async def undone_by(self, execution_id: str) -> tuple[str, ExecutionStatus] | None:
        found = [
            (undo_id, ex.status)
            for undo_id, ex in self.executions.items()
            if ex.plan.undo_of == execution_id and ex.status in UNDOING
        ]
        return found[-1] if found else None

    async def set_status(self, execution_id: str, status: ExecutionStatus) -> None:
        self.executions[execution_id].status = status

    async def request_cancel(self, execution_id: str, by: str) -> bool:
        ex = self.executions.get(execution_id)
        if ex is None or ex.status != "running" or ex.cancel_requested_by is not None:
            return False
        ex.cancel_requested_by = by
        return True

    async def cancel_requested(self, execution_id: str) -> str | None:
        ex = self.executions.get(execution_id)
        return ex.cancel_requested_by if ex is not None else None

    async def claim_step(self, execution_id: str, step_id: str) -> bool:
        async with self._lock:
            ex = self.executions[execution_id]
            if step_id in ex.claimed:
                return False
            ex.claimed.add(step_id)
            self.claims += 1
            return True

    async def record_step(self, execution_id: str, result: StepResult) -> None:
        self.executions[execution_id].steps[result.step_id] = result

    async def result(self, execution_id: str) -> ExecutionResult | None:
        ex = self.executions.get(execution_id)
        if ex is None:
            return None
        return ExecutionResult(execution_id=execution_id, status=ex.status, steps=tuple(ex.steps.values()))

    async def open_approval(
        self, execution_id: str, requester: str, four_eyes: bool, expires_at: datetime, digest: str = ""
    ) -> None:
        self.approvals.setdefault(
            execution_id,
            ApprovalRecord(
                execution_id=execution_id,
                state="pending",
                requester=requester,
                four_eyes=four_eyes,
                expires_at=expires_at,
                digest=digest,
            ),
        )

    async def decide_approval(
        self, execution_id: str, approve: bool, decided_by: str, now: datetime, via: str = ""
    ) -> tuple[ApprovalRecord, bool]:
        async with self._lock:
            record = self.approvals[execution_id]
            if record.state != "pending":
                return record, False
            if now >= record.expires_at:
                record = record.model_copy(update={"state": "expired"})
                self.approvals[execution_id] = record
                return record, False
            state = "approved" if approve else "rejected"
            decided = {"state": state, "decided_by": decided_by, "decided_at": now, "decided_via": via}
            record = record.model_copy(update=decided)
            self.approvals[execution_id] = record
            return record, True

    async def claim_untold(self, platforms: Collection[str]) -> list[tuple[str, TellStage]]:
        async with self._lock:
            claimed: list[tuple[str, TellStage]] = []
            for execution_id, record in self.approvals.items():
                ex = self.executions[execution_id]
                origin = ex.message.identity.platform
                if origin not in platforms or record.decided_via in ("", origin):
                    continue
                stage = tell_stage(record.state, ex.status, self.told.get(execution_id, ""))
                if stage is not None:
                    self.told[execution_id] = stage
                    claimed.append((execution_id, stage))
            return claimed

    async def approval(self, execution_id: str) -> ApprovalRecord | None:
        return self.approvals.get(execution_id)

    async def expire_approvals(self, now: datetime) -> list[str]:
        async with self._lock:
            due = [k for k, r in self.approvals.items() if r.state == "pending" and r.expires_at <= now]
            for execution_id in due:
                self.approvals[execution_id] = self.approvals[execution_id].model_copy(
                    update={"state": "expired"}
                )
                self.executions[execution_id].status = "expired"
            return due

    async def renew_lease(self, execution_id: str, driver: str, until: datetime) -> bool:
        async with self._lock:
            ex = self.executions[execution_id]
            if ex.driver not in (None, driver):
                return False
            ex.driver, ex.lease_expires_at = driver, until
            return True

    async def claim_stalled(self, now: datetime, driver: str, lease_s: float) -> list[str]:
        """Like the SQL store, except that a running execution without any lease is left alone."""
        async with self._lock:
            taken = []
            for execution_id, ex in self.executions.items():
                if ex.status == "running" and ex.lease_expires_at is not None and ex.lease_expires_at < now:
                    ex.driver, ex.lease_expires_at = driver, now + timedelta(seconds=lease_s)
                    taken.append(execution_id)
            return taken


@dataclass(frozen=True)
class MemoryClaim:
    status: str
    attempt: int


class MemoryStepRecovery:
    """StepRecovery over a MemoryExecutionStore (its claimed set and recorded results)."""

    def __init__(self, store: MemoryExecutionStore) -> None:
        self.store = store
        self.closed: set[str] = set()  # keys closed as failed (a 'failed' claim without result yet)

    def _split(self, key: str) -> tuple[_Execution | None, str]:
        execution_id, _, step_id = key.rpartition(":")
        return self.store.executions.get(execution_id), step_id

    async def state(self, key: str) -> MemoryClaim | None:
        ex, step_id = self._split(key)
        if ex is None:
            return None
        if step_id in ex.steps:
            return MemoryClaim("succeeded" if ex.steps[step_id].ok else "failed", 1)
        if key in self.closed:
            return MemoryClaim("failed", 1)
        return MemoryClaim("running" if step_id in ex.claimed else "planned", 1)

    async def release(self, key: str, attempt: int) -> bool:
        async with self.store._lock:
            ex, step_id = self._split(key)
            if ex is None or step_id not in ex.claimed or step_id in ex.steps:
                return False
            ex.claimed.discard(step_id)
            return True

    async def close_failed(self, key: str, attempt: int) -> bool:
        async with self.store._lock:
            ex, step_id = self._split(key)
            if ex is None or step_id not in ex.claimed or step_id in ex.steps or key in self.closed:
                return False
            self.closed.add(key)
            return True


class MemoryAuditLog:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    async def record(
        self,
        event: str,
        *,
        actor: str,
        execution_id: str | None = None,
        chat: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.records.append(
            {
                "event": event,
                "actor": actor,
                "execution_id": execution_id,
                "chat": chat,
                "detail": detail or {},
            }
        )

    def events(self) -> list[str]:
        return [r["event"] for r in self.records]


class StaticIdentity:
    """Identity by user id; unknown users resolve to None."""

    def __init__(self, people: dict[str, set[str]]) -> None:
        self.people = people

    async def resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        roles = self.people.get(identity.user_id)
        if roles is None:
            return None
        return Principal(subject=identity.user_id, roles=frozenset(roles), identity=identity)
