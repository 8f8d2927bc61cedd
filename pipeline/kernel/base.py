"""The kernel's wiring and the plumbing every flow uses: its ports and settings, rate limits,
audit records and the masking of what leaves it.

Identity resolution and planning (understanding included, LLM calls included) each run under
a time limit (`KernelConfig`); an overrun is answered through the error tree, nothing runs.
Every admitted request is recorded (execution row + audit records), whatever its outcome.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from pipeline import messages
from pipeline.admission import Admission
from pipeline.contracts import ChatIdentity, Decision, InboundMessage, Plan, Principal, Reply, utcnow
from pipeline.errors import DependencyError, IdentityUnavailable, OpsError, StageTimeout, UserError
from pipeline.history import HistoryDoor
from pipeline.policy import Policy
from pipeline.ports import AttachedFiles, AuditLog, ExecutionStore, IdentityResolver, ImpactFacts, Planner
from pipeline.redaction import Redactor
from pipeline.schedules import ScheduleDoor
from pipeline.stages.answer import ResultSummarizer
from pipeline.stages.execute import Executor

log = logging.getLogger(__name__)
_R = TypeVar("_R", bound=BaseModel)


@dataclass(frozen=True)
class KernelConfig:
    approval_ttl_s: float = 900.0
    max_message_chars: int = 10_000
    driver_lease_s: float = 60.0  # a running execution whose driver missed renewing this long is resumed
    cancel_poll_s: float = 1.0  # how often the driver of a run looks for a cancel request
    identity_timeout_s: float = 15.0  # resolving who someone is (roles file, Keycloak)
    plan_timeout_s: float = 60.0  # understanding and planning (stages A-C), LLM calls included
    undo_ttl_s: float = 1800.0  # a finished change may be undone this long (its Undo button)
    summary_timeout_s: float = 45.0  # the optional LLM summary of results; then the templated answer


def default_driver_id() -> str:
    """This process, uniquely: host, pid and a random suffix (pids repeat across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def chat_of(message: InboundMessage) -> str:
    ident = message.identity
    return ":".join(p for p in (ident.platform, ident.tenant, message.channel, message.thread) if p)


def channel_of(message: InboundMessage | Decision) -> str:
    """The conversation a message or click came from (its thread aside), for per-channel rate limits."""
    ident = message.identity
    return ":".join((ident.platform, ident.tenant, message.channel or f"dm:{ident.user_id}"))


class KernelBase:
    """The kernel's ports and settings, and the calls every flow makes through them."""

    def __init__(
        self,
        *,
        planner: Planner,
        policy: Policy,
        identity: IdentityResolver,
        store: ExecutionStore,
        audit: AuditLog,
        executor: Executor,
        config: KernelConfig = KernelConfig(),
        clock: Callable[[], datetime] = utcnow,
        driver: str | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        admission: Admission | None = None,
        impact: ImpactFacts | None = None,
        schedules: ScheduleDoor | None = None,
        history: HistoryDoor | None = None,
        redactor: Redactor | None = None,
        files: AttachedFiles | None = None,
        summarizer: ResultSummarizer | None = None,
    ) -> None:
        self.planner = planner
        self.policy = policy
        self.identity = identity
        self.store = store
        self.audit = audit
        self.executor = executor
        self.config = config
        self.clock = clock
        self.driver = driver or default_driver_id()
        self.sleep = sleep  # between lease renewals
        self.admission = admission  # rate limits per channel and person; None: unlimited
        self.impact = impact  # dependants, locks, recent changes; None: targets alone
        self.schedules = schedules  # "every 5 minutes ping ...": None, schedules are not offered
        self.history = history  # "how has latency to db-01 changed?": None, the past is not asked
        self.redactor = redactor  # masks every response before it leaves (chat, --json, prompts)
        self.files = files  # fetched files kept elsewhere, copied here to be attached; None: as given
        self.summarizer = summarizer  # an LLM summary over results; None: the templated answer alone

    def shown(self, response: _R) -> _R:
        """`response` as it may leave the kernel: every text and argument redacted."""
        if self.redactor is None:
            return response
        return type(response).model_validate(self.redactor.redact(response.model_dump(mode="json")))

    async def _admit(self, **keys: str) -> None:
        if self.admission is not None:
            await self.admission.admit(**keys)

    async def _resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        limit = self.config.identity_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await self.identity.resolve(identity, fresh=fresh)
        except TimeoutError:
            raise IdentityUnavailable(f"no answer within {limit:g} s") from None

    async def _plan(self, text: str, principal: Principal, conversation: str) -> Plan:
        limit = self.config.plan_timeout_s
        try:
            async with asyncio.timeout(limit):
                return await self.planner.plan(text, principal, conversation)
        except TimeoutError:
            raise StageTimeout(f"understanding your request (limit {limit:g} s)") from None

    async def _audit(
        self,
        event: str,
        actor: str,
        message: InboundMessage,
        detail: dict[str, object] | None = None,
        execution_id: str | None = None,
    ) -> None:
        await self.audit.record(
            event, actor=actor, execution_id=execution_id, chat=chat_of(message), detail=detail or {}
        )

    def _error_reply(self, err: OpsError) -> Reply:
        if not isinstance(err, UserError | DependencyError):
            log.warning("request failed: %s", err)
        return Reply(outcome="error", summary=messages.error_reply(err))
