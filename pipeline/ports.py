"""Ports the kernel needs, owned here and implemented by `db`, `adapters` and `domains`.

Fakes in tests are plain classes that satisfy these Protocols.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from pipeline.contracts import (
    AssetFilter,
    AssetRef,
    ChatIdentity,
    Decision,
    ExecutionResult,
    ExecutionStatus,
    InboundMessage,
    Plan,
    Principal,
    Progress,
    RecentChange,
    Response,
    StepResult,
)


class AssetDirectory(Protocol):
    """Read access to the inventory, for target resolution and planning."""

    async def snapshot(self) -> Sequence[AssetRef]:
        """All assets (cached by the implementation; inventories are small)."""
        ...

    async def query(self, selector: AssetFilter) -> Sequence[AssetRef]: ...


class ImpactFacts(Protocol):
    """What the inventory and the execution history know about the targets of a change."""

    async def dependants(self, names: Sequence[str], limit: int) -> tuple[list[tuple[AssetRef, str]], bool]:
        """Assets that depend on `names`, transitively, breadth first: (asset, "kind name") pairs
        naming the edge that reached each; at most `limit`, and True when more exist."""
        ...

    async def locked(self, names: Sequence[str], now: datetime) -> dict[str, str]:
        """{name: execution id} of unexpired locks held on `names` by running executions."""
        ...

    async def recent_changes(self, names: Sequence[str], since: datetime) -> dict[str, RecentChange]:
        """The latest write or critical step on each of `names` started at or after `since`."""
        ...


class IdentityResolver(Protocol):
    """Maps a chat identity to a Principal with roles; returns None for unknown people.

    `fresh=True` asks the source itself rather than a cache (approver rights at click
    time); a cached answer still serves while the source is down and the entry is valid.
    Raises IdentityUnavailable when the source is down and nothing cached is valid.
    """

    async def resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None: ...


class Cache(Protocol):
    """Key/value with TTL; Redis in production, in-process in the embedded default."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None: ...

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        """Set only if absent (SET NX); True when this caller set it. Used for dedupe."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the key (a released claim: the next `add` of it succeeds at once)."""
        ...


class RateLimiter(Protocol):
    """Admits at most `limit` events per key in any sliding window of `per_s` seconds.

    Shared across replicas when backed by Redis. Refused events are not counted.
    """

    async def allow(self, key: str, limit: int, per_s: float) -> bool: ...


class LLMUsage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False


class LLMClient(Protocol):
    """Chat completions with schema-constrained JSON output."""

    async def complete_json(
        self,
        messages: Sequence[dict[str, str]],
        schema: dict[str, Any],
        *,
        schema_name: str,
        stage: str,
        max_tokens: int = 512,
    ) -> tuple[dict[str, Any], LLMUsage]:
        """Return the parsed JSON object and token usage. Raises LLMUnavailable."""
        ...


class Planner(Protocol):
    """Stages A-C: text -> Plan (policy not yet applied).

    `conversation` names the thread or DM the text was written in: follow-ups ('and on web-02?',
    'do it') refer back to the same person's last request there.
    """

    async def plan(self, text: str, principal: Principal, conversation: str = "") -> Plan: ...


ApprovalState = Literal["pending", "approved", "rejected", "expired"]


TellStage = Literal["decision", "outcome"]  # what a requester is told of a decision made elsewhere


class ApprovalRecord(BaseModel):
    execution_id: str
    state: ApprovalState
    requester: str
    four_eyes: bool
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    digest: str = ""  # plan_digest() of the plan the prompt showed
    decided_via: str = ""  # the platform of the door the decision came through


class PendingApproval(BaseModel):
    """The approval a new execution waits for, opened with it in one transaction."""

    requester: str
    four_eyes: bool
    expires_at: datetime
    digest: str = ""


class ExecutionStore(Protocol):
    """Executions, steps, results and approvals; persisted so a restart loses nothing."""

    async def create(
        self,
        plan: Plan,
        message: InboundMessage,
        principal: Principal,
        status: ExecutionStatus,
        approval: PendingApproval | None = None,
    ) -> str:
        """Persist a new execution and its planned steps (and the approval it awaits, in the same
        transaction: no restart can leave an execution awaiting an approval that was never opened);
        return its id."""
        ...

    async def load(self, execution_id: str) -> tuple[Plan, InboundMessage, str] | None:
        """Plan, originating message and current status, or None."""
        ...

    async def set_status(self, execution_id: str, status: ExecutionStatus) -> None: ...

    async def undone_by(self, execution_id: str) -> tuple[str, ExecutionStatus] | None:
        """(id, status) of the latest undo of `execution_id` that is waiting, running or done
        (not refused, rejected, expired or failed), or None."""
        ...

    async def claim_step(self, execution_id: str, step_id: str) -> bool:
        """Mark a step running exactly once (idempotency key = execution + step)."""
        ...

    async def record_step(self, execution_id: str, result: StepResult) -> None: ...

    async def result(self, execution_id: str) -> ExecutionResult | None: ...

    async def open_approval(
        self, execution_id: str, requester: str, four_eyes: bool, expires_at: datetime, digest: str = ""
    ) -> None:
        """Open a pending approval bound to `digest` (the plan's `plan_digest`); idempotent."""
        ...

    async def decide_approval(
        self, execution_id: str, approve: bool, decided_by: str, now: datetime, via: str = ""
    ) -> tuple[ApprovalRecord, bool]:
        """Atomically move a pending approval to approved/rejected (or expired when past);
        `via`: the platform the decision came through.

        Returns the record and True only for the one caller whose decision took effect.
        """
        ...

    async def claim_untold(self, platforms: Collection[str]) -> list[tuple[str, TellStage]]:
        """Requests from `platforms` decided through another door whose requester was not told yet:
        ("outcome" once the execution ended, else "decision" once approved). Each stage is claimed
        by one conditional write, so with several replicas each is reported by exactly one."""
        ...

    async def approval(self, execution_id: str) -> ApprovalRecord | None: ...

    async def expire_approvals(self, now: datetime) -> list[str]:
        """Expire pending approvals past their time; ids this caller expired (each once)."""
        ...

    async def request_cancel(self, execution_id: str, by: str) -> bool:
        """Note that `by` cancels the running execution (its driver polls `cancel_requested`);
        False when it is not running or was cancelled already."""
        ...

    async def cancel_requested(self, execution_id: str) -> str | None:
        """Who asked to cancel the execution, or None."""
        ...

    async def renew_lease(self, execution_id: str, driver: str, until: datetime) -> bool:
        """Hold (or keep holding) the driver lease of an execution until `until`.

        Succeeds only when no driver holds it or `driver` already does (conditional write).
        """
        ...

    async def claim_stalled(self, now: datetime, driver: str, lease_s: float) -> list[str]:
        """Take over running executions whose driver lease lapsed before `now`.

        Each is taken by one conditional write (driver := `driver`, lease := now + lease_s),
        so with several replicas calling at once every stalled execution goes to one of them.
        """
        ...


class AuditLog(Protocol):
    """Append-only, hash-chained record of who did what, when, from which chat."""

    async def record(
        self,
        event: str,
        *,
        actor: str,
        execution_id: str | None = None,
        chat: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None: ...


class AttachedFiles(Protocol):
    """The files a run attached (`ToolOutput.files`) as paths on the process answering in chat.

    A step may have run in another process (a worker) that kept the file where every process
    can read it and attached a reference to it (db.files)."""

    async def local(self, ref: str) -> str | None:
        """A path on this machine with the file's content (copied here first when `ref` is a
        shared reference; a local path comes back as it is); None when the file is gone."""
        ...


ProgressCallback = Callable[[Progress], Awaitable[None]]


class ChatAdapter(Protocol):
    """A chat platform: receives messages and renders responses.

    Adapters get a `submit` callable from the composition root, never the app itself.
    """

    async def deliver(self, message: InboundMessage, response: Response) -> None: ...


Submit = Callable[[InboundMessage, ProgressCallback | None], Awaitable[Response]]
"""Hand a message to the pipeline; returns a Reply or an ApprovalPrompt."""

Decide = Callable[[Decision, ProgressCallback | None], Awaitable[Response]]
"""Hand an approve/reject click to the pipeline, which re-checks the clicker's rights."""
