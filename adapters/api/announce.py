"""Which execution a submitted request became, as soon as the kernel records it.

`AnnouncingStore` decorates the kernel's ExecutionStore: after `create` it resolves the future a
caller registered for that message id, so `POST /requests` can answer 202 with the execution's
id the moment it exists, without polling the database. The kernel runs each API request in the
process that received it, so the waiter is always here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pipeline.contracts import ExecutionStatus, InboundMessage, Plan, Principal
from pipeline.ports import PendingApproval


class AnnouncingStore:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._waiting: dict[str, asyncio.Future[str]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def expect(self, message_id: str) -> asyncio.Future[str]:
        """A future for the id of the execution recorded for `message_id`; `forget` it when done."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        return future

    def forget(self, message_id: str) -> None:
        self._waiting.pop(message_id, None)

    async def create(
        self,
        plan: Plan,
        message: InboundMessage,
        principal: Principal,
        status: ExecutionStatus,
        approval: PendingApproval | None = None,
    ) -> str:
        execution_id: str = await self.inner.create(plan, message, principal, status, approval)
        future = self._waiting.pop(message.message_id, None)
        if future is not None and not future.done():
            future.set_result(execution_id)
        return execution_id
