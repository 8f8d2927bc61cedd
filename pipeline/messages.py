"""Fixed user-facing strings, and the one table mapping each error class to a reply."""

from __future__ import annotations

from datetime import datetime

from pipeline import errors

EMPTY = "I got an empty message. Type `help` to see what I can do."
TOO_LONG = "That message is {length:,} characters long; I accept at most {limit:,}. Please shorten it."
UNKNOWN_PERSON = (
    "Sorry, I don't know who you are yet, so I can't act on your behalf. "
    "Ask an administrator to add your chat account to OpsConductor."
)
DUPLICATE = "I have already received this request; it is handled once."
APPROVAL_UNKNOWN = "I can't find a pending approval with that id."
APPROVAL_ALREADY = "This plan was already {state} by {who} at {when}; nothing more to do."
APPROVAL_EXPIRED = "This approval expired at {when}; nothing was run. Ask again if it is still needed."
APPROVAL_REJECTED = "Rejected by {who}; nothing was run."
DECIDED_RUNNING = "Running now; the outcome follows here."
NOTHING_RAN = "The plan ended without running a step (refused before it started); nothing was changed."
DECIDED_STAMP = "{verb} by {who} {door} at {when}"
DOORS = {"console": "on the command line", "api": "through the API", "oidc": "through the web console or API"}


def decided_stamp(who: str, approve: bool, at: datetime, via: str) -> str:
    """'✅ Approved by console:bob on the command line at 2026-12-04 21:05:09 UTC'."""
    verb = "✅ Approved" if approve else "🚫 Rejected"
    door = DOORS.get(via) or (f"through {via}" if via else "elsewhere")
    return DECIDED_STAMP.format(verb=verb, who=who, door=door, when=at.strftime("%Y-%m-%d %H:%M:%S UTC"))


APPROVAL_NEEDED = "This plan needs approval before it runs ({why})."
PLAN_CHANGED = (
    "Refused: the plan stored for this approval is not the plan its prompt showed "
    "(plan {shown} was shown, plan {now} is stored now). It was changed after the prompt; "
    "nothing was run. Ask again to get a new prompt."
)
PROMPT_OUTDATED = (
    "Refused: the prompt you answered showed plan {clicked}, but this approval is for plan {shown}; "
    "nothing was run. Answer the current prompt."
)
NOT_APPROVED = "Refused: this plan's approval is {state}, not approved; nothing was run."
PLAN_EDITED = "refused: the stored plan differs from the plan this run was started for (edited since)"
APPROVAL_UNBOUND = (
    "Refused: this approval was opened before approvals were bound to the plan they show; "
    "nothing was run. Ask again to get a new prompt."
)
DEFINITION_CHANGED = (
    "refused: the definition of {tool} changed since this plan was made ({source}); nothing was run. "
    "Ask again to plan with the current definition."
)


def definition_changed(tool: str, source: str) -> str:
    return DEFINITION_CHANGED.format(tool=tool, source=source or "now built in")


RESUMED = "The bot instance running this request stopped midway; another one finished it. "
DRIVEN_ELSEWHERE = "This request is already being run by another bot instance; nothing more was started here."
LEASE_LOST = (
    "This bot instance stalled while running your request, so another instance has taken it over "
    "and continues it; its answer will follow. Nothing more runs here."
)
NOT_READY = "I can't do that with this bot's setup: {problems}. Nothing was asked for approval or run."
LLM_DOWN = "The language model is unreachable; structured commands still work (type `help`)."
INTERNAL = "Something went wrong on my side ({kind}); nothing further was run. The error is logged."

RUN_CANCELLED = (
    "Cancelled by {who}: commands still running were stopped on their targets, later steps not started."
)
CANCELLING = "Cancelling execution {execution_id}: its running commands are being stopped on the targets."
CANCEL_NOT_RUNNING = "Execution {execution_id} is not running ({status}); there is nothing to cancel."
CANCEL_ALREADY = "Execution {execution_id} is being cancelled already."
RUN_TIMED_OUT = (
    "⏱ This run reached its time limit of {limit} s: targets still running were timed out and later "
    "steps were not started; every result so far is kept below."
)
DECISION_RATE_LIMITED = (
    "You are sending clicks and requests faster than I take them ({detail}), so this {verb} was "
    "not applied and nothing changed. Please wait a minute and click again."
)

ERROR_REPLIES: dict[type[errors.OpsError], str] = {
    errors.NotPermitted: "Not permitted: {detail}.",
    errors.InvalidRequest: "I can't do that as asked: {detail}",
    errors.UnknownTarget: "I don't know these targets: {detail}. `list all assets` shows the names.",
    errors.ApprovalClosed: "{detail}",
    errors.RateLimited: (
        "You are sending requests faster than I take them ({detail}), so I did not start this one. "
        "Please wait a minute and try again."
    ),
    errors.TargetUnreachable: "Unreachable: {detail}",
    errors.ToolFailed: "Failed: {detail}",
    errors.ToolTimeout: "Timed out: {detail}",
    errors.OutcomeUncertain: "Uncertain: {detail}",
    errors.InvalidModelOutput: (
        "The language model gave an answer I could not use; try the structured form (`help`)."
    ),
    errors.LLMContextOverflow: (
        "The request with its context is too long for the language model ({detail}); "
        "nothing was run. Shorten it or use the structured form (`help`)."
    ),
    errors.LLMUnavailable: LLM_DOWN,
    errors.IdentityUnavailable: (
        "I can't check your permissions right now (the identity service is unavailable), "
        "so I won't act. Please try again shortly."
    ),
    errors.StoreUnavailable: "My database is unavailable ({detail}); nothing was run.",
    errors.StageTimeout: (
        "I took too long {detail}, so I stopped; nothing was run. Please try again in a moment, "
        "or use the structured form (`help`)."
    ),
    errors.SetupIncomplete: "I am not fully set up ({detail}); nothing was run.",
}


def error_reply(err: errors.OpsError) -> str:
    """The one user-facing sentence for an error, by its most specific class."""
    for cls in type(err).__mro__:
        template = ERROR_REPLIES.get(cls)
        if template is not None:
            return template.format(detail=str(err) or cls.__name__)
    return INTERNAL.format(kind=type(err).__name__)


# --------------------------------------------------------------------------- impact
IMPACT_LEVEL = {"low": "Low risk", "medium": "Medium risk", "high": "High risk"}
IMPACT_HOSTS = "changes {hosts}"
IMPACT_PRODUCTION = "{count} of them in production"
IMPACT_DEPENDANTS = "{count}{more} other asset(s) depend on them"
IMPACT_DEPENDANTS_PRODUCTION = "{count} in production"
IMPACT_LOCKED = "{names} locked by another run"
IMPACT_RECENT = "{names} changed in the last {minutes} minutes"
IMPACT_NOTHING_ELSE = "nothing else in the inventory depends on them"
IMPACT_FOUR_EYES = "{why}: a second person must approve"

# --------------------------------------------------------------------------- schedules
SCHEDULE_CREATED = (
    "Scheduled {name} (schedule {number}): {what}, {cadence}, posting to {where} {when}. Next run {next}."
)
SCHEDULE_PENDING = (
    "Schedule {number} ({name}) changes things, so it needs one approval before it starts "
    '({why}): "approve schedule {number}" (or `opsconductor schedules approve {number}`).'
)
SCHEDULE_POST_ALWAYS = "after every run"
SCHEDULE_POST_CHANGE = "when the result changes state"
SCHEDULE_NOTHING = "There is nothing to schedule in that request: {why}"
SCHEDULE_REFUSED = "I can't schedule that: {why}."
SCHEDULE_UNKNOWN = "There is no schedule {id}."
SCHEDULE_NOT_YOURS = "Only the schedule's owner, an approver or an admin may change schedule {id}."
SCHEDULE_DONE = "Schedule {id} is {state}."
SCHEDULE_STATE_WORDS = {"paused": "paused", "active": "running again", "deleted": "deleted"}
SCHEDULE_LIST = "{count}{whose}:"
SCHEDULE_LIST_NONE = 'There are no schedules{whose}. Ask e.g. "every 5 minutes ping db-01" to make one.'
SCHEDULE_NO_MATCH = 'No schedule matches "{ref}". {listing}'
SCHEDULE_WHICH = '{count} schedules match "{ref}"; say which by its number ("{verb} schedule {example}").'
SCHEDULE_COLUMNS = ("#", "name", "state", "when", "posts to", "owner", "next run")
SCHEDULE_APPROVED = "Schedule {id} is approved by {who} and active; next run {next}."
SCHEDULE_NOT_PENDING = "Schedule {id} is {state}; there is nothing to approve."
SCHEDULE_CHANGED = "Schedule {name}: the result changed state.\n{lines}\n"
SCHEDULE_RAN = "Schedule {name}: "
# --------------------------------------------------------------------------- change freezes
FREEZE_REFUSED = (
    "Refused: a change freeze is in force: {windows}. Nothing was run. An administrator may override "
    'it with a reason: override freeze "REASON": {request}'
)
FREEZE_NOT_YOURS = (
    "Refused: a change freeze is in force: {windows}. Only {roles} may override it; nothing was run."
)
FREEZE_OPENED = (
    "Refused: a change freeze opened since this plan was made: {windows}. Nothing was run; an "
    "administrator may ask again with an override."
)
FREEZE_OVERRIDDEN = "Change freeze overridden by {by} ({reason}): {windows}"

# --------------------------------------------------------------------------- check mode
NO_CHECK = "{tools} cannot run as a check (no read-only check is declared); nothing was run."
CHECK_DONE = "Check only, nothing was changed: {summary}"
CHECK_OF = "Check of execution {execution_id} (nothing was changed, the approval is still open): {summary}"

# --------------------------------------------------------------------------- undo
UNDO_UNDECLARED = "{tool} declares no undo"
UNDO_NO_CHANGE = "{tool} succeeded on no target, so it changed nothing to undo"
UNDO_OF = "Undo of execution {execution_id}: {summary}"
UNDO_NOTHING = "Nothing of execution {execution_id} can be undone: {why}."
UNDO_NOT_FINISHED = (
    "Execution {execution_id} has not finished ({status}); only a finished change can be undone."
)
UNDO_EXPIRED = (
    "Refused: the undo window of execution {execution_id} closed at {when}; nothing was run. "
    "Ask for the reverse change as a new request."
)
UNDO_NOT_YOURS = "Refused: execution {execution_id} was not made in this workspace."
UNDO_ALREADY = (
    "Refused: execution {execution_id} is already undone by execution {undo} ({status}); nothing was planned."
)
UNDO_CHANGED = (
    "Refused: what execution {execution_id} changed has changed again since ({why}), and undoing "
    "it would overwrite that later change; nothing was planned. Ask for the state you want as a "
    "new request."
)


def counted(count: int, noun: str) -> str:
    """'1 hop', '3 hops', '1 process', '2 processes', '1 entry', '1,200 targets'."""
    if count == 1:
        return f"1 {noun}"
    if noun.endswith(("s", "x", "sh", "ch")):
        return f"{count:,} {noun}es"
    if noun.endswith("y") and noun[-2:-1] not in {"a", "e", "i", "o", "u"}:
        return f"{count:,} {noun[:-1]}ies"
    return f"{count:,} {noun}s"


UNCONFIRMED = (
    "The language model could not check this reading of your request ({why}): approving runs it as shown."
)
DISPUTED = (
    "I read this as a change; the language model reads it differently{remark}. "
    "Did you mean: {listed}? Send the number or the command."
)


def unconfirmed(why: str) -> str:
    """A change read from free text that the LLM could not confirm (the approval gate still holds)."""
    return UNCONFIRMED.format(why=why)


def disputed_reading(readings: list[str], remark: str = "") -> str:
    """The grammar's change reading and the LLM's own (when it has a valid one), as numbered choices."""
    listed = "; ".join(f"{n}. `{r}`" for n, r in enumerate(readings, 1))
    return DISPUTED.format(remark=f" ({remark.rstrip('.')})" if remark else "", listed=listed)


# the approver's note on a change read from free text (`Interpretation.confirmation`)
READING_CHECKED = {
    "confirmed": "🤖 The language model read the request the same way.",
    "unconfirmed": "❔ The language model could not check how the request was read: compare the steps to it.",
}
