"""Telling a chat requester what was decided on their request through another door.

A plan asked for in a Slack or Teams thread may be approved or rejected from the command line
(`opsconductor approve ID`), the web console or the API, in whichever process that door runs.
The thread then hears it as if its own button had been clicked: who decided, when and where as
soon as the run starts, then the outcome under the same stamp. A click in the thread itself
shows all that in place and needs no telling.

    Kernel._decide: the approval records the door (`decided_via`)
    every serving replica, every sweep: Teller.due
      -> store.claim_untold(platforms): each (execution, stage) handed to exactly one replica
      -> (the request's message, Reply(decided=...)) -> the platform adapter's `deliver`
"""

from __future__ import annotations

from collections.abc import Collection

from pipeline import messages
from pipeline.contracts import DecidedBy, InboundMessage, Plan, Reply
from pipeline.ports import ApprovalRecord, ExecutionStore, TellStage
from pipeline.stages.answer import result_reply

ENDED = frozenset({"succeeded", "failed", "rejected", "refused"})


def tell_stage(state: str, status: str, told: str) -> TellStage | None:
    """What a requester is to be told next: the outcome once the execution ended, the decision
    once it was approved (and its run not ended yet), or nothing."""
    if told == "outcome":
        return None
    if status in ENDED:
        return "outcome"
    return "decision" if state == "approved" and not told else None


class Teller:
    """Finds what requesters on `platforms` (those a replica can post to) must be told."""

    def __init__(self, store: ExecutionStore, platforms: Collection[str]) -> None:
        self.store = store
        self.platforms = platforms

    async def due(self) -> list[tuple[InboundMessage, Reply]]:
        """What to tell each requester now (each stage reported once, across replicas)."""
        told: list[tuple[InboundMessage, Reply]] = []
        for execution_id, stage in await self.store.claim_untold(self.platforms):
            loaded = await self.store.load(execution_id)
            record = await self.store.approval(execution_id)
            if loaded is None or record is None:
                continue
            plan, message, _status = loaded
            told.append((message, await self._reply(execution_id, plan, stage, record)))
        return told

    async def _reply(self, execution_id: str, plan: Plan, stage: TellStage, record: ApprovalRecord) -> Reply:
        approved = record.state == "approved"
        decided = DecidedBy(
            who=record.decided_by or "someone",
            approve=approved,
            at=record.decided_at or record.expires_at,
            via=record.decided_via,
        )
        said = {"execution_id": execution_id, "decided": decided}
        if stage == "decision":
            return Reply(outcome="approval_result", summary=messages.DECIDED_RUNNING, plan=plan, **said)
        result = await self.store.result(execution_id) if approved else None
        if result is None or not result.steps:
            rejected = messages.APPROVAL_REJECTED.format(who=decided.who)
            summary = messages.NOTHING_RAN if approved else rejected
            return Reply(outcome="approval_result", summary=summary, plan=plan, **said)
        return result_reply(plan, result).model_copy(update=said)
