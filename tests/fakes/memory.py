"""In-memory fakes of the kernel's ports (plain classes), for fast pipeline tests.

They follow the ports' contracts, including the atomic parts: `claim_step` and
`decide_approval` succeed once. The SQL implementations are tested against the same
behaviour on SQLite and PostgreSQL in tests/db.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.contracts import (
    ChatIdentity,
    ExecutionResult,
    ExecutionStatus,
    InboundMessage,
    Plan,
    Principal,
    StepResult,
    new_id,
)
from pipeline.ports import ApprovalRecord


@dataclass
class _Execution:
    plan: Plan
    message: InboundMessage
    principal: Principal
    status: ExecutionStatus
    claimed: set[str] = field(default_factory=set)
    steps: dict[str, StepResult] = field(default_factory=dict)


class MemoryExecutionStore:
    def __init__(self) -> None:
        self.executions: dict[str, _Execution] = {}
        self.approvals: dict[str, ApprovalRecord] = {}
        self.claims = 0
        self._lock = asyncio.Lock()

    async def create(
        self, plan: Plan, message: InboundMessage, principal: Principal, status: ExecutionStatus
    ) -> str:
        execution_id = new_id()
        self.executions[execution_id] = _Execution(plan, message, principal, status)
        return execution_id

    async def load(self, execution_id: str) -> tuple[Plan, InboundMessage, str] | None:
        ex = self.executions.get(execution_id)
        return (ex.plan, ex.message, ex.status) if ex else None

    async def set_status(self, execution_id: str, status: ExecutionStatus) -> None:
        self.executions[execution_id].status = status

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
        self, execution_id: str, requester: str, four_eyes: bool, expires_at: datetime
    ) -> None:
        self.approvals[execution_id] = ApprovalRecord(
            execution_id=execution_id,
            state="pending",
            requester=requester,
            four_eyes=four_eyes,
            expires_at=expires_at,
        )

    async def decide_approval(
        self, execution_id: str, approve: bool, decided_by: str, now: datetime
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
            record = record.model_copy(update={"state": state, "decided_by": decided_by, "decided_at": now})
            self.approvals[execution_id] = record
            return record, True

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
