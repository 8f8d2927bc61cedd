"""Schedules as chat shows and finds them: the listing table, and which schedules a
`ScheduleCommand` ("the disk check schedule", "schedule 3", "the nightly ping") points at."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline import messages
from pipeline.contracts import Principal, Reply, ReplySection, ReplyTable
from pipeline.messages import counted
from pipeline.schedule_phrasing import MANAGE_VERBS, ScheduleCommand, mentions, schedule_words
from pipeline.schedules import Schedule

POSTS = {"change": "on change", "always": "every run"}


def matching(schedules: Sequence[Schedule], command: ScheduleCommand, asker: Principal) -> list[Schedule]:
    """The schedules the command points at: by number, else by every word of its reference."""
    found = [s for s in schedules if not command.mine or s.owner == asker.subject]
    if command.number is not None:
        return [s for s in found if s.number == command.number]
    return [s for s in found if mentions(command.words, schedule_words(s.name, s.text, s.cadence))]


def listing(schedules: Sequence[Schedule], owner: str | None = None) -> Reply:
    """Every schedule (or `owner`'s) as one table: number, name, state, cadence, where, owner, next run."""
    shown = [s for s in schedules if owner is None or s.owner == owner]
    whose = " of yours" if owner is not None else ""
    if not shown:
        return Reply(outcome="answer", summary=messages.SCHEDULE_LIST_NONE.format(whose=whose))
    summary = messages.SCHEDULE_LIST.format(count=counted(len(shown), "schedule"), whose=whose)
    return Reply(outcome="answer", summary=summary, sections=(_section(shown),))


def unmatched(found: Sequence[Schedule], command: ScheduleCommand, everyone: Sequence[Schedule]) -> Reply:
    """The question back when the command points at no schedule, or at more than one."""
    ref = " ".join(command.words) or (f"schedule {command.number}" if command.number is not None else "")
    if not found:
        hint = listing(everyone)
        summary = messages.SCHEDULE_NO_MATCH.format(ref=ref, listing=hint.summary)
        return Reply(outcome="clarify", summary=summary, sections=hint.sections)
    verb = MANAGE_VERBS[command.act][0] if command.act != "list" else "show"
    summary = messages.SCHEDULE_WHICH.format(count=len(found), ref=ref, verb=verb, example=found[0].number)
    return Reply(outcome="clarify", summary=summary, sections=(_section(found),))


def _section(schedules: Sequence[Schedule]) -> ReplySection:
    rows = tuple(
        (
            str(s.number),
            s.name,
            s.state.replace("_", " "),
            s.cadence.describe(),
            f"{s.destination.describe()} ({POSTS[s.notify]})",
            s.owner,
            f"{s.next_run_at:%Y-%m-%d %H:%M} UTC" if s.state == "active" else "-",
        )
        for s in schedules
    )
    table = ReplyTable(title="Schedules", columns=messages.SCHEDULE_COLUMNS, rows=rows, total=len(rows))
    return ReplySection(title="Schedules", tables=(table,))
