"""Block Kit rendering of the kernel's neutral responses; pure functions, no Slack calls.

Limits respected here (Slack's): a section's text holds 3,000 characters, a message
50 blocks and about 40,000 characters. Long output is shortened with a visible marker;
whenever something was shortened or left out, `SlackMessage.full_text` carries the
whole report so the sender can attach it as a file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from adapters.rendering import (
    argument_text,
    plain_report,
    plan_notes,
    plan_text,
    shorten,
    shown_args,
    status_icon,
    targets_text,
    undo_lines,
)
from adapters.slack.tables import table_block, text_table_block
from pipeline import messages
from pipeline.contracts import (
    ApprovalPrompt,
    DecidedBy,
    Plan,
    PlanStep,
    Progress,
    Reply,
    ReplySection,
    Response,
    Risk,
    short_digest,
)
from pipeline.messages import counted

SECTION_LIMIT = 3_000
MESSAGE_BUDGET = 38_000  # below Slack's ~40,000 to leave room for the framing blocks
MAX_SECTIONS = 30  # target sections per message (Slack allows 50 blocks in all)
MAX_BLOCKS = 50
TARGET_BLOCKS = MAX_BLOCKS - 8  # room for the summary, recommendations, undo, id and suggestions
PROMPT_BLOCKS = MAX_BLOCKS - 4  # room for the header lines the app puts above a prompt
ATTACH_FAILED = (
    "⚠️ The complete plan could not be attached to the approval prompt above, so it cannot be "
    "read in full here: do not approve it. Ask for the plan again, or read it with "
    "`opsconductor approve` on the console."
)
PLAN_FILE = "opsconductor-plan-{digest}.txt"
FALLBACK_LIMIT = 3_000
APPROVE_ACTION = "opsconductor_approve"
REJECT_ACTION = "opsconductor_reject"
CHECK_ACTION = "opsconductor_check"
UNDO_ACTION = "opsconductor_undo"
CANCEL_ACTION = "opsconductor_cancel"
APPROVAL_BLOCK = "opsconductor_approval"
SUGGEST_ACTION = "opsconductor_suggest_{n}"  # one per button: Slack wants distinct ids in a block
SUGGEST_BLOCK = "opsconductor_suggestions"
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2_000
MAX_SUGGESTIONS = 5
RISK_ICONS = {Risk.READ: "🟢", Risk.WRITE: "🟠", Risk.CRITICAL: "🔴"}


@dataclass(frozen=True)
class SlackMessage:
    """What chat.postMessage / chat.update receive, plus the full report when shortened."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    full_text: str | None = None
    file_name: str = "opsconductor-report.txt"
    file_title: str = "Full report"
    must_attach: bool = False  # the message tells people to read the file: say so if it fails
    files: tuple[str, ...] = ()  # local files (charts) uploaded into the thread after the answer

    def with_header(self, *blocks: dict[str, Any]) -> SlackMessage:
        return replace(self, blocks=[*blocks, *self.blocks][:MAX_BLOCKS])


def escape(text: str) -> str:
    """Slack's mrkdwn control characters; user and tool text must not form links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, SECTION_LIMIT)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(text, SECTION_LIMIT)}]}


def render(response: Response) -> SlackMessage:
    if isinstance(response, ApprovalPrompt):
        return render_prompt(response)
    return render_reply(response)


# --------------------------------------------------------------------------- replies


def render_reply(reply: Reply) -> SlackMessage:
    """Summary first, a compact section per target (problems first when cut), recommendations last."""
    head, _, rest = reply.summary.strip().partition("\n")
    blocks = [mrkdwn(f"*{escape(head)}*")]
    if rest.strip():  # multi-line answers (help, clarifications) keep their layout
        blocks.append(mrkdwn(f"```{shorten(escape(rest), SECTION_LIMIT - 6)}```"))
    shown, count, cut = _target_blocks(reply.sections)
    blocks += shown
    omitted = len(reply.sections) - count
    if omitted:
        blocks.append(context(f"… and {counted(omitted, 'more target')}; the full report is attached."))
    if reply.recommendations:
        recs = "\n".join(f"• {escape(r)}" for r in reply.recommendations)
        blocks.append(mrkdwn(f"*Recommendations*\n{recs}"))
        cut = cut or len(recs) + 20 > SECTION_LIMIT
    if reply.undo is not None:
        blocks += _undo_blocks(reply)
    if reply.execution_id:
        blocks.append(context(f"execution `{reply.execution_id}`"))
    blocks += suggestion_blocks(reply.suggestions)
    full = plain_report(reply) if (cut or omitted) else None
    return SlackMessage(
        text=shorten(reply.summary, FALLBACK_LIMIT), blocks=blocks, full_text=full, files=reply.files
    )


def suggestion_blocks(suggestions: tuple[str, ...]) -> list[dict[str, Any]]:
    """One button per suggested request; its value is the request, sent as the clicker's own."""
    buttons = [
        {
            "type": "button",
            "action_id": SUGGEST_ACTION.format(n=n),
            "text": {"type": "plain_text", "text": shorten(text, BUTTON_TEXT_LIMIT)},
            "value": text,
        }
        for n, text in enumerate(suggestions[:MAX_SUGGESTIONS], 1)
        if 0 < len(text) <= BUTTON_VALUE_LIMIT
    ]
    return [{"type": "actions", "block_id": SUGGEST_BLOCK, "elements": buttons}] if buttons else []


def _undo_blocks(reply: Reply) -> list[dict[str, Any]]:
    """What undo would run (or that nothing can be undone) and, within the window, the button."""
    assert reply.undo is not None
    blocks = [context("\n".join(escape(line) for line in undo_lines(reply.undo)))]
    if reply.undo.until is not None and reply.execution_id:
        button = {
            "type": "button",
            "action_id": UNDO_ACTION,
            "text": {"type": "plain_text", "text": "Undo"},
            "value": reply.execution_id,
        }
        blocks.append({"type": "actions", "block_id": UNDO_ACTION, "elements": [button]})
    return blocks


def _target_blocks(sections: tuple[ReplySection, ...]) -> tuple[list[dict[str, Any]], int, bool]:
    """Blocks for as many sections as fit (each with its tables), how many sections they show,
    and True when anything was shortened."""
    ordered = sections
    if len(sections) > MAX_SECTIONS:  # when cutting, keep the problems visible
        ordered = tuple(sorted(sections, key=lambda s: s.status is None or s.status.value == "ok"))
    blocks: list[dict[str, Any]] = []
    budget, cut, native, count = MESSAGE_BUDGET, False, True, 0
    for section in ordered[:MAX_SECTIONS]:
        text, shortened = section_text(section)
        tables, table_cut = _tables(section, native)
        size = len(text) + len(json.dumps(tables))
        if size > budget or len(blocks) + 1 + len(tables) > TARGET_BLOCKS:
            return blocks, count, True
        budget -= size
        native = native and not any(b["type"] == "table" for b in tables)
        cut = cut or shortened or table_cut
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, *tables]
        count += 1
    return blocks, count, cut


def _tables(section: ReplySection, native: bool) -> tuple[list[dict[str, Any]], bool]:
    """A section's tables: the message's first as a table block, the others in monospace."""
    blocks: list[dict[str, Any]] = []
    cut = False
    for table in section.tables:
        if native and table.rows:
            shown, shortened = table_block(section, table, escape)
            native = False
        else:
            block, shortened = text_table_block(section, table, escape)
            shown = [block]
        blocks += shown
        cut = cut or shortened
    return blocks, cut


def section_text(section: ReplySection) -> tuple[str, bool]:
    """One target: status icon and title, facts on one line, output in a code block (shortened)."""
    head = f"{status_icon(section.status)} *{escape(section.title)}*"
    facts = " · ".join(f"{escape(label)}: {escape(value)}" for label, value in section.facts)
    text = f"{head}\n{facts}" if facts else head
    if not section.text:
        return shorten(text, SECTION_LIMIT), len(text) > SECTION_LIMIT
    room = SECTION_LIMIT - len(text) - 8  # the fences and newlines
    output = escape(section.text)
    if room < 200:  # facts are long: keep a little output rather than none
        text, room = shorten(text, SECTION_LIMIT - 208), 200
    return f"{text}\n```{shorten(output, room)}```", len(output) > room


# --------------------------------------------------------------------------- approvals


def render_prompt(prompt: ApprovalPrompt) -> SlackMessage:
    """The typed plan (tools, targets, every argument whole, risk, expiry, four eyes, plan digest)
    with two buttons. When the whole plan does not fit in one message (50 blocks, ~40,000
    characters), the message shows an overview, says plainly that the complete plan is attached
    as a file, and `full_text` carries it; nothing is ever cut silently."""
    risk = f"{RISK_ICONS[prompt.risk]} {prompt.risk.value}"
    who = escape(prompt.requester_name or prompt.requester)
    head = [
        mrkdwn(f"🔐 *Approval needed* — {escape(prompt.summary)}"),
        mrkdwn(
            f"*Requested by* {who} · *risk* {risk} · *expires* {stamp(prompt.expires_at)}"
            f" · *plan* `{short_digest(prompt.digest)}`"
        ),
    ]
    head += notes_blocks(prompt.plan)
    tail = (
        [context("👥 Four eyes: someone other than the requester must approve.")] if prompt.four_eyes else []
    )
    tail += [_buttons(prompt), context(f"execution `{prompt.execution_id}`")]
    body = [block for i, step in enumerate(prompt.plan.steps, 1) for block in step_blocks(i, step)]
    text = shorten(f"Approval needed ({prompt.risk.value}): {prompt.summary}", FALLBACK_LIMIT)
    if len(head) + len(body) + len(tail) <= PROMPT_BLOCKS and _size(body) <= MESSAGE_BUDGET:
        return SlackMessage(text=text, blocks=[*head, *body, *tail])
    plan = plan_text(prompt)
    name = PLAN_FILE.format(digest=short_digest(prompt.digest))
    notice = mrkdwn(
        f"⚠️ *This plan is too long to show here in full* ({len(plan):,} characters). The complete "
        f"plan is attached below as the file `{name}`, plan `{short_digest(prompt.digest)}`: "
        "read it before you approve."
    )
    overview = [_overview(i, s) for i, s in enumerate(prompt.plan.steps, 1)]
    return SlackMessage(
        text=text,
        blocks=[*head, *overview, notice, *tail],
        full_text=plan,
        file_name=name,
        file_title=f"Plan {short_digest(prompt.digest)} awaiting approval",
        must_attach=True,
    )


def notes_blocks(plan: Plan) -> list[dict[str, Any]]:
    """Impact and freeze override: the first line in bold, then the rest whole (over several
    sections if long); none when the plan carries neither."""
    notes = plan_notes(plan)
    if not notes:
        return []
    first, *rest = notes
    return [mrkdwn(f"*{escape(first)}*"), *(_pieces("", "\n".join(rest)) if rest else [])]


def step_blocks(index: int, step: PlanStep) -> list[dict[str, Any]]:
    """One step whole: its head, every target, every argument (long ones over several blocks)."""
    risk = f"{RISK_ICONS[step.risk]} {step.risk.value}"
    blocks = [mrkdwn(f"*{index}. `{escape(step.tool)}`* · {risk}")]
    targets = targets_text(step)
    blocks += (
        _pieces(f"*Targets ({len(step.targets)}):* ", targets) if targets else [mrkdwn("*Targets:* none")]
    )
    args = shown_args(step)
    short = [f"`{escape(k)}` = `{escape(argument_text(v))}`" for k, v in args if _is_short(v)]
    if short:
        blocks.append(mrkdwn("*Arguments:* " + " · ".join(short)))
    for key, value in args:
        if not _is_short(value):
            text = argument_text(value)
            blocks += _pieces(f"*{escape(key)}* ({len(text):,} characters):\n", text, code=True)
    if not args:
        blocks.append(mrkdwn("*Arguments:* none"))
    return blocks


def _overview(index: int, step: PlanStep) -> dict[str, Any]:
    sizes = ", ".join(f"`{escape(k)}` ({len(argument_text(v)):,} characters)" for k, v in shown_args(step))
    return mrkdwn(
        f"*{index}. `{escape(step.tool)}`* · {RISK_ICONS[step.risk]} {step.risk.value} · "
        f"{counted(len(step.targets), 'target')} · arguments: {sizes or 'none'} — see the attached plan"
    )


def _is_short(value: object) -> bool:
    text = argument_text(value)
    return len(text) <= 200 and "\n" not in text and "`" not in text


def _pieces(head: str, text: str, *, code: bool = False) -> list[dict[str, Any]]:
    """`text` whole over as many sections as it needs; code blocks cannot be closed from inside."""
    fence = "```" if code else ""
    escaped = escape(text.replace("```", "`\u200b`\u200b`")) if code else escape(text)
    room = SECTION_LIMIT - len(head) - 2 * len(fence) - 40
    blocks: list[dict[str, Any]] = []
    start, part = 0, 1
    while start < len(escaped) or not blocks:
        end = _cut(escaped, start, room)
        label = head if part == 1 else f"_(continued, part {part})_\n"
        blocks.append(mrkdwn(f"{label}{fence}{escaped[start:end]}{fence}"))
        start, part = end, part + 1
    return blocks


def _cut(text: str, start: int, room: int) -> int:
    """Where a piece starting at `start` ends: at most `room` characters, never inside an entity."""
    end = min(len(text), start + room)
    if end < len(text):
        newline = text.rfind("\n", start + room // 2, end)
        end = newline + 1 if newline != -1 else end
        amp = text.rfind("&", max(start, end - 5), end)
        if amp != -1 and ";" not in text[amp:end]:
            end = amp
    return end


def _size(blocks: list[dict[str, Any]]) -> int:
    return sum(len(b.get("text", {}).get("text", "")) for b in blocks)


def button_value(prompt: ApprovalPrompt) -> str:
    """What a click sends back: the execution and the digest of the plan this prompt shows."""
    return f"{prompt.execution_id}:{prompt.digest}" if prompt.digest else prompt.execution_id


def _buttons(prompt: ApprovalPrompt) -> dict[str, Any]:
    approve: dict[str, Any] = {
        "type": "button",
        "action_id": APPROVE_ACTION,
        "text": {"type": "plain_text", "text": "Approve"},
        "style": "primary",
        "value": button_value(prompt),
    }
    if prompt.risk is Risk.CRITICAL:
        approve["confirm"] = {
            "title": {"type": "plain_text", "text": "Run a critical plan?"},
            "text": {"type": "mrkdwn", "text": shorten(escape(prompt.summary), 300)},
            "confirm": {"type": "plain_text", "text": "Approve"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
    reject = {
        "type": "button",
        "action_id": REJECT_ACTION,
        "text": {"type": "plain_text", "text": "Reject"},
        "style": "danger",
        "value": button_value(prompt),
    }
    check = {
        "type": "button",
        "action_id": CHECK_ACTION,
        "text": {"type": "plain_text", "text": "Check first"},
        "value": button_value(prompt),
    }
    return {"type": "actions", "block_id": APPROVAL_BLOCK, "elements": [approve, reject, check]}


# --------------------------------------------------------------------------- progress and decisions


def render_progress(event: Progress) -> SlackMessage:
    """The running step, the newest lines of output as they arrive, and a Cancel button."""
    last = ""
    if event.last is not None:
        last = f" — last: {status_icon(event.last.status)} {escape(event.last.target or event.tool)}"
    text = f"⏳ `{escape(event.tool)}`: {event.done}/{event.total} done{last}"
    blocks = [mrkdwn(text)]
    if event.output:
        where = f" on {escape(event.output_target)}" if event.output_target else ""
        tail = event.output[-(SECTION_LIMIT - 200) :]
        blocks += _pieces(f"_output so far{where}:_\n", tail, code=True)[-1:]
    cancel = {
        "type": "button",
        "action_id": CANCEL_ACTION,
        "text": {"type": "plain_text", "text": "Cancel"},
        "style": "danger",
        "value": event.execution_id,
    }
    blocks.append({"type": "actions", "block_id": CANCEL_ACTION, "elements": [cancel]})
    return SlackMessage(text=f"Running {event.tool}: {event.done}/{event.total}", blocks=blocks)


def decision_stamp(user_id: str, approve: bool, when: datetime, action: str = "decide") -> dict[str, Any]:
    """The context line saying who decided (or asked for a check) and when, above progress and results."""
    verbs = {"check": "🔎 Check requested", "undo": "↩️ Undo requested", "cancel": "⏹ Cancel requested"}
    verb = verbs.get(action) or ("✅ Approved" if approve else "🚫 Rejected")
    return context(f"{verb} by <@{user_id}> at {stamp(when)}")


def decided_stamp_text(decided: DecidedBy) -> str:
    """Who decided through another door (the command line, the web console, the API), and when."""
    return escape(messages.decided_stamp(decided.who, decided.approve, decided.at, decided.via))


def requested_by(user_id: str, text: str) -> dict[str, Any]:
    return context(f"<@{user_id}> asked: {escape(shorten(text, 500))}")


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")
