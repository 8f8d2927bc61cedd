"""The scheduler: creates, approves and changes schedules, and runs each due tick once.

Every replica runs `due_ticks` on a timer; `ScheduleStore.claim` hands each tick to exactly
one of them. `run_tick` runs it as an ordinary execution (`Kernel.run_scheduled`) and says
what to post where: every run, or only when the run's state changed (the default).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline import anomalies, messages
from pipeline.contracts import InboundMessage, Principal, Reply, Risk, new_id, utcnow
from pipeline.history import HistoryStore
from pipeline.kernel import Kernel, chat_of, default_driver_id
from pipeline.schedule_listing import listing, matching, unmatched
from pipeline.schedule_phrasing import read_schedule_command
from pipeline.schedules import (
    Cadence,
    Destination,
    Notify,
    Schedule,
    ScheduleState,
    ScheduleStore,
    changes,
    run_state,
)
from pipeline.stages.answer import describe_plan

log = logging.getLogger(__name__)
MANAGERS = frozenset({"approver", "admin"})  # may pause, resume and delete anyone's schedule


@dataclass(frozen=True)
class Tick:
    schedule: Schedule
    at: datetime


@dataclass(frozen=True)
class Post:
    """What one run has to say, and where."""

    destination: Destination
    message: InboundMessage
    reply: Reply


class Scheduler:
    """Schedules over a `ScheduleStore`, run through the kernel (policy, approval, audit)."""

    def __init__(
        self,
        kernel: Kernel,
        store: ScheduleStore,
        *,
        clock: Callable[[], datetime] = utcnow,
        by: str | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        self.kernel = kernel
        self.store = store
        self.clock = clock
        self.by = by or default_driver_id()
        self.history = history  # when set, a run's measurements are judged against their baseline

    # ------------------------------------------------------------------ managing

    async def create(
        self,
        message: InboundMessage,
        cadence: Cadence,
        destination: Destination,
        notify: Notify = "change",
        name: str = "",
    ) -> tuple[Schedule | None, Reply]:
        """Plan `message.text` as its sender and store it as a schedule (pending when it changes things)."""
        principal, plan = await self.kernel.plan_request(message)
        if principal is None or plan.outcome == "refused":
            return None, Reply(outcome="refused", summary=plan.message)
        if plan.outcome != "plan":
            why = plan.message or "it asks for nothing to run"
            return None, Reply(outcome="clarify", summary=messages.SCHEDULE_NOTHING.format(why=why))
        denial = self.kernel.policy.schedule_denial(plan)
        if denial is not None:
            return None, Reply(outcome="refused", summary=messages.SCHEDULE_REFUSED.format(why=denial))
        now = self.clock()
        state: ScheduleState = "active" if plan.risk is Risk.READ else "pending_approval"
        schedule = Schedule(
            id=new_id()[:12],
            name=name or message.text[:60],
            text=message.text,
            plan=plan,
            cadence=cadence,
            destination=destination,
            notify=notify,
            owner=principal.subject,
            message=message,
            state=state,
            next_run_at=now if cadence.every_s is not None else cadence.next_after(now),
            created_at=now,
        )
        schedule = await self.store.add(schedule)
        await self._audit("schedule.created", principal.subject, schedule, describe(schedule))
        return schedule, Reply(outcome="answer", summary=created_summary(schedule, plan.four_eyes))

    async def approve(self, schedule_id: str, approver_message: InboundMessage) -> Reply:
        """Approve a pending schedule (`schedule_id`: its id or number) as the sender of the message."""
        schedule = await self.lookup(schedule_id)
        if schedule is None:
            return Reply(outcome="refused", summary=messages.SCHEDULE_UNKNOWN.format(id=schedule_id))
        schedule_id = schedule.id
        if schedule.state != "pending_approval":
            summary = messages.SCHEDULE_NOT_PENDING.format(id=label(schedule), state=schedule.state)
            return Reply(outcome="approval_result", summary=summary)
        approver = await self.kernel.identity.resolve(approver_message.identity, fresh=True)
        if approver is None:
            return Reply(outcome="refused", summary=messages.UNKNOWN_PERSON)
        denial = self.kernel.policy.approval_denial(schedule.plan, approver, schedule.owner)
        if denial is not None:
            await self._audit("schedule.approval_denied", approver.subject, schedule, {"why": denial})
            return Reply(outcome="refused", summary=f"Not permitted: {denial}.")
        await self.store.set_state(schedule_id, "active", approved_by=approver.subject)
        await self._audit(
            "schedule.approved", approver.subject, schedule, {"plan_digest": schedule.plan.digest()}
        )
        who = approver.display_name or approver.subject
        next_at = _stamp(schedule.next_run_at)
        return Reply(
            outcome="approval_result",
            summary=messages.SCHEDULE_APPROVED.format(id=label(schedule), who=who, next=next_at),
        )

    async def change(self, schedule_id: str, to: str, message: InboundMessage) -> Reply:
        """Pause, resume or delete (`to`: paused, active, deleted) as the sender of `message`;
        `schedule_id` is the schedule's id or number."""
        schedule = await self.lookup(schedule_id)
        if schedule is None:
            return Reply(outcome="refused", summary=messages.SCHEDULE_UNKNOWN.format(id=schedule_id))
        schedule_id = schedule.id
        person = await self.kernel.identity.resolve(message.identity, fresh=True)
        if person is None:
            return Reply(outcome="refused", summary=messages.UNKNOWN_PERSON)
        if not _may_manage(person, schedule):
            return Reply(outcome="refused", summary=messages.SCHEDULE_NOT_YOURS.format(id=label(schedule)))
        if to == "deleted":
            await self.store.delete(schedule_id)
        elif to == "active" and schedule.state == "pending_approval":
            summary = messages.SCHEDULE_PENDING.format(
                name=schedule.name, number=schedule.number, why="not yet"
            )
            return Reply(outcome="refused", summary=summary)
        else:
            await self.store.set_state(schedule_id, "active" if to == "active" else "paused")
        event = {"paused": "schedule.paused", "active": "schedule.resumed", "deleted": "schedule.deleted"}[to]
        await self._audit(event, person.subject, schedule, {})
        state = messages.SCHEDULE_STATE_WORDS[to]
        return Reply(outcome="answer", summary=messages.SCHEDULE_DONE.format(id=label(schedule), state=state))

    async def lookup(self, ref: str) -> Schedule | None:
        """The schedule with id `ref`, else the one numbered `ref`."""
        found = await self.store.get(ref)
        if found is None and ref.isdigit():
            found = next((s for s in await self.store.all() if s.number == int(ref)), None)
        return found

    async def manage(self, message: InboundMessage, principal: Principal) -> Reply | None:
        """A chat request about existing schedules ("list my schedules", "pause the disk check
        schedule", "resume schedule 3"), answered under the same rules as the command line;
        None when the message is not about schedules."""
        command = read_schedule_command(message.text)
        if command is None:
            return None
        schedules = await self.store.all()
        if command.act == "list":
            return listing(schedules, principal.subject if command.mine else None)
        found = matching(schedules, command, principal)
        if len(found) != 1:
            # "the nightly ping" matching no one schedule is a request after all, not about one
            return unmatched(found, command, schedules) if command.named else None
        if command.act == "approved":
            return await self.approve(found[0].id, message)
        return await self.change(found[0].id, command.act, message)

    # ------------------------------------------------------------------ running

    async def due_ticks(self) -> list[Tick]:
        """The ticks this process won: at most one caller across all replicas gets each."""
        now = self.clock()
        won: list[Tick] = []
        for schedule in await self.store.due(now):
            tick = schedule.next_run_at
            if await self.store.claim(schedule.id, tick, schedule.cadence.next_after(now), self.by):
                won.append(Tick(schedule, tick))
        return won

    async def run_tick(self, tick: Tick) -> Post | None:
        """Run a won tick; what to post (None: nothing changed, and the schedule posts on change)."""
        schedule = tick.schedule
        message = schedule.run_message(tick.at)
        reply = await self.kernel.run_scheduled(schedule.plan, message, schedule.id)
        state = run_state(reply)
        flags = await self._anomalies(reply)
        state.update({f"anomaly {a.kind} {a.target}": "flagged" for a in flags})
        lines = changes(schedule.last_state, state)
        lines = [_explained(line, flags) for line in lines]
        post = schedule.notify == "always" or bool(lines)
        await self.store.finish_run(schedule.id, tick.at, reply.execution_id, state, post)
        if not post:
            return None
        head = (
            messages.SCHEDULE_CHANGED.format(name=schedule.name, lines="\n".join(lines))
            if lines
            else messages.SCHEDULE_RAN.format(name=schedule.name)
        )
        return Post(schedule.destination, message, reply.model_copy(update={"summary": head + reply.summary}))

    async def _anomalies(self, reply: Reply) -> list[anomalies.Anomaly]:
        """The run's fresh measurements judged against their series' 7-day baselines."""
        if self.history is None or reply.result is None:
            return []
        now = self.clock()
        found: list[anomalies.Anomaly] = []
        for step in reply.result.steps:
            for result in step.results:
                for kind in anomalies.kinds_of(result.output.data):
                    series = await self.history.measurements(
                        kind,
                        [result.target],
                        now - anomalies.BASELINE - timedelta(hours=1),
                        now + timedelta(minutes=1),
                    )
                    flag = anomalies.latest(kind, result.target, series.get(result.target, []))
                    if flag is not None:
                        found.append(flag)
        return found

    async def _audit(self, event: str, actor: str, schedule: Schedule, detail: dict[str, object]) -> None:
        await self.kernel.audit.record(
            event, actor=actor, chat=chat_of(schedule.message), detail={"schedule": schedule.id, **detail}
        )


def describe(schedule: Schedule) -> dict[str, object]:
    return {
        "name": schedule.name,
        "cadence": schedule.cadence.model_dump(exclude_none=True),
        "destination": schedule.destination.model_dump(),
        "notify": schedule.notify,
        "steps": describe_plan(schedule.plan),
        "state": schedule.state,
    }


def created_summary(schedule: Schedule, four_eyes: bool) -> str:
    if schedule.state == "pending_approval":
        why = "a second person must approve" if four_eyes else "someone with the approver role"
        return messages.SCHEDULE_PENDING.format(name=schedule.name, number=schedule.number, why=why)
    what = "; ".join(f"{step.tool} on {', '.join(step.target_names) or '-'}" for step in schedule.plan.steps)
    when = messages.SCHEDULE_POST_ALWAYS if schedule.notify == "always" else messages.SCHEDULE_POST_CHANGE
    return messages.SCHEDULE_CREATED.format(
        name=schedule.name,
        number=schedule.number,
        what=what,
        cadence=schedule.cadence.describe(),
        where=schedule.destination.describe(),
        when=when,
        next=_stamp(schedule.next_run_at),
    )


def _explained(line: str, flags: list[anomalies.Anomaly]) -> str:
    """'anomaly latency db-01: none -> flagged' with the anomaly's own words."""
    for flag in flags:
        if line.startswith(f"anomaly {flag.kind} {flag.target}:"):
            return f"{line} ({flag.describe()})"
    return line


def label(schedule: Schedule) -> str:
    """How replies name a schedule: its number and name."""
    return f'{schedule.number} ("{schedule.name}")'


def _may_manage(person: Principal, schedule: Schedule) -> bool:
    return person.subject == schedule.owner or bool(MANAGERS & person.roles)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
