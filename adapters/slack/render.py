"""Block Kit rendering of the kernel's neutral responses; pure functions, no Slack calls.

Limits respected here (Slack's): a section's text holds 3,000 characters, a message
50 blocks and about 40,000 characters. Long output is shortened with a visible marker;
whenever something was shortened or left out, `SlackMessage.full_text` carries the
whole report so the sender can attach it as a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from adapters.rendering import plain_report, shorten, status_icon
from pipeline.contracts import (
    ApprovalPrompt,
    PlanStep,
    Progress,
    Reply,
    ReplySection,
    Response,
    Risk,
    short_digest,
)

SECTION_LIMIT = 3_000
MESSAGE_BUDGET = 38_000  # below Slack's ~40,000 to leave room for the framing blocks
MAX_SECTIONS = 30  # target sections per message (Slack allows 50 blocks in all)
MAX_PLAN_STEPS = 20
FALLBACK_LIMIT = 3_000
APPROVE_ACTION = "opsconductor_approve"
REJECT_ACTION = "opsconductor_reject"
APPROVAL_BLOCK = "opsconductor_approval"
RISK_ICONS = {Risk.READ: "🟢", Risk.WRITE: "🟠", Risk.CRITICAL: "🔴"}


@dataclass(frozen=True)
class SlackMessage:
    """What chat.postMessage / chat.update receive, plus the full report when shortened."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    full_text: str | None = None

    def with_header(self, *blocks: dict[str, Any]) -> SlackMessage:
        return replace(self, blocks=[*blocks, *self.blocks][:50])


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
    shown, cut = _target_blocks(reply.sections)
    blocks += shown
    omitted = len(reply.sections) - len(shown)
    if omitted:
        blocks.append(context(f"… and {omitted} more target(s); the full report is attached."))
    if reply.recommendations:
        recs = "\n".join(f"• {escape(r)}" for r in reply.recommendations)
        blocks.append(mrkdwn(f"*Recommendations*\n{recs}"))
        cut = cut or len(recs) + 20 > SECTION_LIMIT
    if reply.execution_id:
        blocks.append(context(f"execution `{reply.execution_id}`"))
    full = plain_report(reply) if (cut or omitted) else None
    return SlackMessage(text=shorten(reply.summary, FALLBACK_LIMIT), blocks=blocks, full_text=full)


def _target_blocks(sections: tuple[ReplySection, ...]) -> tuple[list[dict[str, Any]], bool]:
    """Blocks for as many sections as fit; True when any text was shortened."""
    ordered = sections
    if len(sections) > MAX_SECTIONS:  # when cutting, keep the problems visible
        ordered = tuple(sorted(sections, key=lambda s: s.status is None or s.status.value == "ok"))
    blocks: list[dict[str, Any]] = []
    budget, cut = MESSAGE_BUDGET, False
    for section in ordered[:MAX_SECTIONS]:
        text, shortened = section_text(section)
        if len(text) > budget:
            return blocks, True
        budget -= len(text)
        cut = cut or shortened
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
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
    """The typed plan (tools, targets, arguments, risk, expiry, four-eyes) with two buttons."""
    risk = f"{RISK_ICONS[prompt.risk]} {prompt.risk.value}"
    who = escape(prompt.requester_name or prompt.requester)
    blocks = [
        mrkdwn(f"🔐 *Approval needed* — {escape(prompt.summary)}"),
        mrkdwn(
            f"*Requested by* {who} · *risk* {risk} · *expires* {stamp(prompt.expires_at)}"
            f" · *plan* `{short_digest(prompt.digest)}`"
        ),
    ]
    blocks += [_step_block(i, s) for i, s in enumerate(prompt.plan.steps[:MAX_PLAN_STEPS], 1)]
    if len(prompt.plan.steps) > MAX_PLAN_STEPS:
        blocks.append(context(f"… and {len(prompt.plan.steps) - MAX_PLAN_STEPS} more step(s)."))
    if prompt.four_eyes:
        blocks.append(context("👥 Four eyes: someone other than the requester must approve."))
    blocks.append(_buttons(prompt))
    blocks.append(context(f"execution `{prompt.execution_id}`"))
    text = f"Approval needed ({prompt.risk.value}): {prompt.summary}"
    return SlackMessage(text=shorten(text, FALLBACK_LIMIT), blocks=blocks)


def _step_block(index: int, step: PlanStep) -> dict[str, Any]:
    names = ", ".join(step.target_names)
    targets = f"{len(step.targets)} target(s): {escape(names)}" if step.targets else "no targets"
    args = ", ".join(f"`{escape(k)}`={escape(repr(v))}" for k, v in step.args.items()) or "none"
    risk = f"{RISK_ICONS[step.risk]} {step.risk.value}"
    return mrkdwn(f"*{index}. `{escape(step.tool)}`* · {risk}\n*Targets:* {targets}\n*Arguments:* {args}")


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
    return {"type": "actions", "block_id": APPROVAL_BLOCK, "elements": [approve, reject]}


# --------------------------------------------------------------------------- progress and decisions


def render_progress(event: Progress) -> SlackMessage:
    last = ""
    if event.last is not None:
        last = f" — last: {status_icon(event.last.status)} {escape(event.last.target or event.tool)}"
    text = f"⏳ `{escape(event.tool)}`: {event.done}/{event.total} done{last}"
    return SlackMessage(text=f"Running {event.tool}: {event.done}/{event.total}", blocks=[mrkdwn(text)])


def decision_stamp(user_id: str, approve: bool, when: datetime) -> dict[str, Any]:
    """The context line saying who decided and when, placed above progress and results."""
    verb = "✅ Approved" if approve else "🚫 Rejected"
    return context(f"{verb} by <@{user_id}> at {stamp(when)}")


def requested_by(user_id: str, text: str) -> dict[str, Any]:
    return context(f"<@{user_id}> asked: {escape(shorten(text, 500))}")


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")
