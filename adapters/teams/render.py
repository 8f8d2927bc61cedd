"""Adaptive Card rendering of the kernel's neutral responses; pure functions, no Teams calls.

Teams refuses messages above about 28 KB, so every card is measured as the JSON it will
travel as and kept within `CARD_BUDGET`: long output is shortened first (with a marker
saying how much was cut), then targets are left out (problems kept), saying how many.
Text that comes from people or tools goes into `TextRun`s, which Teams does not read as
markdown, so output cannot forge links or formatting.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.rendering import (
    argument_text,
    plan_notes,
    plan_text,
    shorten,
    shown_args,
    status_icon,
    targets_text,
    undo_lines,
)
from adapters.teams.parse import MAX_SUGGESTION, SUGGEST
from adapters.teams.tables import table_elements
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

Card = dict[str, Any]
Element = dict[str, Any]

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"  # Action.Execute (universal actions) needs 1.4+, Teams renders 1.5
CARD_BUDGET = 26_000  # bytes of card JSON; Teams' limit for a whole message is about 28 KB
MAX_DETAILED = 10  # targets shown with facts and output; beyond that, one compact row each
OUTPUT_LIMITS = (4_000, 2_000, 800, 300, 0)  # characters of output per target, tried in turn
TABLE_ROWS = (50, 25, 10, 5, 0)  # rows per table, tried with the output limits above
PART_CHARS = 16_000  # characters of plan text per part card (halved while the card is too big)
RISK_ICONS = {Risk.READ: "🟢", Risk.WRITE: "🟠", Risk.CRITICAL: "🔴"}
MAX_SUGGESTIONS = 5
APPROVE, REJECT, CHECK, UNDO, CANCEL = "approve", "reject", "check", "undo", "cancel"
OUTPUT_TAIL = 2_000  # characters of running output on a progress card


def card_size(card: Card) -> int:
    """Bytes of the card as JSON the way botbuilder sends it (ASCII with \\u escapes, spaced
    separators): the largest of its encodings, so the card fits however it travels."""
    return len(json.dumps(card))


def render(response: Response, header: Sequence[Element] = ()) -> Card:
    if isinstance(response, ApprovalPrompt):
        return render_prompt(response)
    return render_reply(response, header)


# --------------------------------------------------------------------------- elements


def card(body: list[Element], actions: list[Element] | None = None) -> Card:
    content: Card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return content


def run(text: str, **style: Any) -> Element:
    """Literal text (no markdown), e.g. `run(out, fontType="Monospace")`."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def note(text: str, **style: Any) -> Element:
    """Our own short text, markdown allowed (only for strings this module writes)."""
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def facts(pairs: Sequence[tuple[str, str]]) -> Element:
    return {
        "type": "FactSet",
        "facts": [{"title": inert(shorten(t, 200)), "value": inert(shorten(v, 1_000))} for t, v in pairs],
    }


def inert(text: str) -> str:
    """FactSet text is markdown in Teams; break link and emphasis syntax in foreign text."""
    return text.replace("](", "]\u200b(").replace("*", "\u2217").replace("_", "\uff3f")


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def decision_stamp(who: str, approve: bool, when: datetime, action: str = "decide") -> Element:
    """Who decided (or asked for a check) and when, shown above progress and results."""
    verbs = {"check": "🔎 Check requested", "undo": "↩️ Undo requested", "cancel": "⏹ Cancel requested"}
    verb = verbs.get(action) or ("✅ Approved" if approve else "🚫 Rejected")
    return run(f"{verb} by {who} at {stamp(when)}", weight="Bolder")


def decided_stamp(decided: DecidedBy) -> Element:
    """Who decided through another door (the command line, the web console, the API), and when."""
    return run(messages.decided_stamp(decided.who, decided.approve, decided.at, decided.via), weight="Bolder")


def pending_stamp(who: str, approve: bool, when: datetime) -> Element:
    verb = "Approve" if approve else "Reject"
    return run(f"⏳ {who} chose {verb} at {stamp(when)}; checking and starting…", weight="Bolder")


# --------------------------------------------------------------------------- replies


def render_reply(reply: Reply, header: Sequence[Element] = ()) -> Card:
    """Summary, targets (detailed or compact), recommendations; within `CARD_BUDGET`."""
    sections = _problems_first(reply.sections)
    for limit, rows in zip(OUTPUT_LIMITS, TABLE_ROWS, strict=True):
        built = _reply_card(reply, header, sections, limit, rows=rows)
        if card_size(built) <= CARD_BUDGET:
            return built
    shown = len(sections)
    while shown > 0:
        shown //= 2
        built = _reply_card(reply, header, sections[:shown], 0, omitted=len(sections) - shown)
        if card_size(built) <= CARD_BUDGET:
            return built
    return card([*header, run(shorten(reply.summary, 2_000), weight="Bolder"), note(_omitted(len(sections)))])


def _problems_first(sections: tuple[ReplySection, ...]) -> tuple[ReplySection, ...]:
    if len(sections) <= MAX_DETAILED:
        return sections
    return tuple(sorted(sections, key=lambda s: s.status is None or s.status.value == "ok"))


def _reply_card(
    reply: Reply,
    header: Sequence[Element],
    sections: Sequence[ReplySection],
    output_limit: int,
    omitted: int = 0,
    rows: int = 0,
) -> Card:
    head, _, rest = reply.summary.strip().partition("\n")
    body: list[Element] = [*header, run(shorten(head, 2_000), weight="Bolder", size="Medium")]
    if rest.strip():  # multi-line answers (help, clarifications) keep their layout, as on Slack
        body.append(run(shorten(rest, 6_000), fontType="Monospace"))
    if len(sections) + omitted > MAX_DETAILED:
        body.append(_compact(sections))
    else:
        body += [_detailed(s, output_limit, rows) for s in sections]
    if omitted:
        body.append(note(_omitted(omitted), isSubtle=True))
    if reply.recommendations:
        body.append(note("**Recommendations**", spacing="Medium"))
        body += [run(f"• {shorten(r, 500)}") for r in reply.recommendations[:10]]
    actions: list[Element] = []
    if reply.undo is not None:
        body += [run(shorten(line, 2_000), color="Accent") for line in undo_lines(reply.undo)]
        if reply.undo.until is not None and reply.execution_id:
            data = {"execution_id": reply.execution_id}
            fallback = {"type": "Action.Submit", "title": "Undo", "data": {"verb": UNDO, **data}}
            actions.append(
                {"type": "Action.Execute", "title": "Undo", "verb": UNDO, "data": data, "fallback": fallback}
            )
    if reply.execution_id:
        body.append(note(f"execution {reply.execution_id}", isSubtle=True, size="Small"))
    return card(body, actions + suggestion_actions(reply.suggestions))


def suggestion_actions(suggestions: tuple[str, ...]) -> list[Element]:
    """One Action.Submit per suggested request; a click sends it as the clicker's own message."""
    return [
        {"type": "Action.Submit", "title": shorten(text, 80), "data": {"verb": SUGGEST, "text": text}}
        for text in suggestions[:MAX_SUGGESTIONS]
        if 0 < len(text) <= MAX_SUGGESTION
    ]


def _omitted(count: int) -> str:
    return f"… and {counted(count, 'more target')} not shown (Teams' message size limit)."


def _detailed(section: ReplySection, output_limit: int, rows: int = 0) -> Element:
    items: list[Element] = [
        run(f"{status_icon(section.status)} {shorten(section.title, 200)}", weight="Bolder")
    ]
    if section.facts:
        items.append(facts(section.facts))
    for table in section.tables:
        items += table_elements(section, table, rows)
    if section.text and output_limit:
        items.append(run(shorten(section.text, output_limit), fontType="Monospace", size="Small"))
    elif section.text:
        items.append(note(f"(output of {len(section.text):,} characters left out)", isSubtle=True))
    return {"type": "Container", "separator": True, "items": items}


def _compact(sections: Sequence[ReplySection]) -> Element:
    """One row per target: status and name, then its facts on one line."""
    rows = []
    for s in sections:
        line = " · ".join(f"{label}: {value}" for label, value in s.facts) or (s.status or "")
        rows.append((f"{status_icon(s.status)} {s.title}", shorten(str(line), 300)))
    return facts(rows)


# --------------------------------------------------------------------------- approvals


def render_prompt(prompt: ApprovalPrompt) -> Card:
    """The typed plan (tools, targets, every argument whole, risk, expiry, four eyes, plan digest)
    with Approve/Reject. A plan too long for one card (`CARD_BUDGET`) gets an overview card that
    says plainly where the complete plan is: in the messages `prompt_parts` makes, posted just
    before it. Nothing is ever cut silently."""
    steps = [_step(i, s) for i, s in enumerate(prompt.plan.steps, 1)]
    full = _prompt_card(prompt, steps)
    if card_size(full) <= CARD_BUDGET:
        return full
    parts = len(prompt_parts(prompt))
    notice = run(
        f"⚠️ This plan is too long to show in one card ({len(plan_text(prompt)):,} characters). The complete "
        f"plan is in the {parts} message(s) just above, headed 'Plan {short_digest(prompt.digest)}, part 1 "
        f"of {parts}' onwards: read it before you approve.",
        weight="Bolder",
        color="Attention",
    )
    return _prompt_card(prompt, [*(_overview(i, s) for i, s in enumerate(prompt.plan.steps, 1)), notice])


def prompt_parts(prompt: ApprovalPrompt) -> list[Card]:
    """The complete plan as literal text over as many cards as it needs, when one card cannot
    hold it; [] when the prompt card shows it whole."""
    steps = [_step(i, s) for i, s in enumerate(prompt.plan.steps, 1)]
    if card_size(_prompt_card(prompt, steps)) <= CARD_BUDGET:
        return []
    text, chunks, start = plan_text(prompt), [], 0
    while start < len(text):
        size = PART_CHARS
        while card_size(_part(text[start : start + size], 0, 0, prompt)) > CARD_BUDGET:
            size //= 2  # characters JSON escapes (\uXXXX) take more room
        chunks.append(text[start : start + size])
        start += size
    return [_part(chunk, i, len(chunks), prompt) for i, chunk in enumerate(chunks, 1)]


def _part(chunk: str, index: int, total: int, prompt: ApprovalPrompt) -> Card:
    head = f"Plan {short_digest(prompt.digest)}, part {index} of {total} (execution {prompt.execution_id})"
    return card([run(head, weight="Bolder"), run(chunk, fontType="Monospace", size="Small")])


def _prompt_card(prompt: ApprovalPrompt, steps: list[Element]) -> Card:
    who = prompt.requester_name or prompt.requester
    body: list[Element] = [
        run("🔐 Approval needed", weight="Bolder", size="Medium"),
        run(shorten(prompt.summary, 1_000)),
        facts(
            [
                ("Requested by", who),
                ("Risk", f"{RISK_ICONS[prompt.risk]} {prompt.risk.value}"),
                ("Expires", stamp(prompt.expires_at)),
                ("Execution", prompt.execution_id),
                ("Plan", short_digest(prompt.digest)),
            ]
        ),
        *_notes(prompt.plan),
        *steps,
    ]
    if prompt.four_eyes:
        body.append(note("👥 **Four eyes**: someone other than the requester must approve."))
    actions = [
        _execute("Approve", APPROVE, prompt, "positive"),
        _execute("Reject", REJECT, prompt, "destructive"),
        _execute("Check first", CHECK, prompt, "default"),
    ]
    return card(body, actions)


def _notes(plan: Plan) -> list[Element]:
    """Impact and freeze override as literal text: the first line in bold (attention colour when
    the risk is high), the rest after it; none when the plan carries neither."""
    notes = plan_notes(plan)
    if not notes:
        return []
    first, *rest = notes
    level = plan.impact.level if plan.impact is not None else "high"
    color = {"high": "Attention", "medium": "Warning"}.get(level, "Default")
    items = [
        run(shorten(first, 1_000), weight="Bolder", color=color),
        *(run(shorten(line, 8_000)) for line in rest),
    ]
    return [{"type": "Container", "separator": True, "items": items}]


def _step(index: int, step: PlanStep) -> Element:
    """One step whole, as literal text runs (no markdown): head, every target, every argument."""
    items: list[Element] = [
        run(f"{index}. {step.tool} · {RISK_ICONS[step.risk]} {step.risk.value}", weight="Bolder"),
        run(f"Targets ({len(step.targets)}): {targets_text(step) or 'none'}"),
    ]
    args = shown_args(step)
    for name, value in args:
        text = argument_text(value)
        items.append(run(f"{name} ({len(text):,} characters):", weight="Bolder"))
        items.append(run(text, fontType="Monospace"))
    if not args:
        items.append(run("Arguments: none"))
    return {"type": "Container", "separator": True, "items": items}


def _overview(index: int, step: PlanStep) -> Element:
    sizes = ", ".join(f"{k} ({len(argument_text(v)):,} characters)" for k, v in shown_args(step))
    line = (
        f"{index}. {step.tool} · {RISK_ICONS[step.risk]} {step.risk.value} · "
        f"{counted(len(step.targets), 'target')} · "
        f"arguments: {sizes or 'none'}"
    )
    return {"type": "Container", "separator": True, "items": [run(line)]}


def _execute(title: str, verb: str, prompt: ApprovalPrompt, style: str) -> Element:
    """Action.Execute (universal actions), falling back to Action.Submit on older clients."""
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": {"execution_id": prompt.execution_id, "digest": prompt.digest},
        "style": style,
        "fallback": {
            "type": "Action.Submit",
            "title": title,
            "data": {"verb": verb, "execution_id": prompt.execution_id, "digest": prompt.digest},
        },
    }


def with_note(prompt_card: Card, text: str) -> Card:
    """The approval card again (buttons kept) with a line saying why a click did nothing."""
    body = [*prompt_card.get("body", []), run(f"⚠️ {shorten(text, 500)}", color="Attention")]
    return {**prompt_card, "body": body}


# --------------------------------------------------------------------------- progress


def render_progress(event: Progress, header: Sequence[Element] = ()) -> Card:
    """The running step, the newest lines of output as they arrive, and a Cancel button."""
    last = ""
    if event.last is not None:
        last = f" — last: {status_icon(event.last.status)} {event.last.target or event.tool}"
    body = [*header, run(f"⏳ {event.tool}: {event.done}/{event.total} done{shorten(last, 300)}")]
    if event.output:
        where = f" on {event.output_target}" if event.output_target else ""
        body.append(note(f"output so far{where}:", isSubtle=True))
        body.append(run(event.output[-OUTPUT_TAIL:], fontType="Monospace", size="Small"))
    data = {"execution_id": event.execution_id}
    fallback = {"type": "Action.Submit", "title": "Cancel", "data": {"verb": CANCEL, **data}}
    cancel = {"type": "Action.Execute", "title": "Cancel", "verb": CANCEL, "data": data, "fallback": fallback}
    return card(body, [cancel])


def render_text(text: str, header: Sequence[Element] = ()) -> Card:
    return card([*header, run(shorten(text, 4_000))])
