"""Platform-neutral text shaping for chat renderers: shortening with a marker, plain reports.

Chat platforms cap message sizes (Slack: 3,000 characters per section, ~40,000 per
message). Renderers shorten long tool output with `shorten`, which always says how much
was cut, and can attach the full text produced by `plain_report` as a file instead.
"""

from __future__ import annotations

import json

from pipeline import messages
from pipeline.contracts import (
    ApprovalPrompt,
    AssetRef,
    Dependant,
    Impact,
    Plan,
    PlanStep,
    Reply,
    ReplySection,
    ReplyTable,
    Response,
    TargetStatus,
    UndoOffer,
    short_digest,
)

STATUS_ICONS: dict[TargetStatus | None, str] = {
    TargetStatus.OK: "✅",
    TargetStatus.FAILED: "❌",
    TargetStatus.UNREACHABLE: "🔌",
    TargetStatus.TIMEOUT: "⏱️",
    TargetStatus.UNCERTAIN: "⚠️",
    TargetStatus.SKIPPED: "⏭️",
    None: "•",
}


def truncation_marker(cut: int) -> str:
    return f"… (truncated, {cut:,} more characters)"


def shorten(text: str, limit: int) -> str:
    """`text` unchanged if it fits in `limit` characters, else its head plus a marker saying
    how many characters were cut; the result never exceeds `limit` (for limit >= 48)."""
    if len(text) <= limit:
        return text
    # The marker's own length depends on the number it prints; size it for the worst case.
    room = max(0, limit - len(truncation_marker(len(text))) - 1)
    return f"{text[:room]}\n{truncation_marker(len(text) - room)}"


def status_icon(status: TargetStatus | None) -> str:
    return STATUS_ICONS.get(status, "•")


def section_report(section: ReplySection) -> str:
    """One target's section as plain text: title, facts, every table row, full output."""
    lines = [f"{status_icon(section.status)} {section.title}"]
    lines += [f"  {label}: {value}" for label, value in section.facts]
    for table in section.tables:
        lines += ["", table_heading(section, table, len(table.rows)), table_text(table)]
    if section.text:
        lines += ["", section.text, ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- tables


def targets_table(sections: tuple[ReplySection, ...] | list[ReplySection], columns: int = 5) -> ReplyTable:
    """The overview of a reply, one row per target: its status, a column for each fact every
    target has (up to `columns`), the other facts together under 'details'."""
    labels = list(dict.fromkeys(k for s in sections for k, _ in s.facts))
    shared = [k for k in labels if all(k in dict(s.facts) for s in sections)][:columns]
    rest = any(k not in shared for k in labels)
    rows = []
    for s in sections:
        facts = dict(s.facts)
        details = ["; ".join(f"{k}: {v}" for k, v in s.facts if k not in shared)] if rest else []
        rows.append((s.title, (s.status or TargetStatus.OK).value, *(facts[k] for k in shared), *details))
    head = ("target", "status", *shared, *(["details"] if rest else []))
    return ReplyTable(title="targets", columns=head, rows=tuple(rows), total=len(rows))


def table_heading(section: ReplySection, table: ReplyTable, shown: int) -> str:
    """'web-01 · processes', with '(20 of 120 rows)' when not every row is shown."""
    total = max(table.total, len(table.rows))
    count = f" ({shown} of {messages.counted(total, 'row')})" if shown < total else ""
    return f"{section.title} · {table.title}{count}"


def numeric_columns(table: ReplyTable) -> tuple[bool, ...]:
    """Columns whose every filled cell is a number (aligned right on every platform)."""
    return tuple(
        any(row[i] for row in table.rows) and all(_is_number(row[i]) for row in table.rows if row[i])
        for i in range(len(table.columns))
    )


def column_weights(table: ReplyTable, cap: int = 40) -> tuple[int, ...]:
    """Relative column widths from the longest cell (header included), each between 1 and `cap`."""
    return tuple(
        max(1, min(cap, max([len(table.columns[i]), *(len(row[i]) for row in table.rows)])))
        for i in range(len(table.columns))
    )


def table_text(table: ReplyTable, rows: int | None = None) -> str:
    """A table in monospace text: header, rule, padded rows (numbers aligned right)."""
    body = table.rows if rows is None else table.rows[:rows]
    widths = [max([len(c), *(len(r[i]) for r in body)]) for i, c in enumerate(table.columns)]
    right = numeric_columns(table)

    def line(cells: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True))
        return "  ".join(padded).rstrip()

    return "\n".join([line(table.columns), "  ".join("-" * w for w in widths), *map(line, body)])


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("%"))
    except ValueError:
        return False
    return True


def shown_args(step: PlanStep) -> list[tuple[str, object]]:
    """The arguments an approver reads: every one that is set (an unset template is no argument)."""
    return [(name, value) for name, value in step.args.items() if value is not None]


def plain_report(response: Response) -> str:
    """The whole response as plain text, nothing shortened (for files and logs)."""
    if isinstance(response, ApprovalPrompt):
        return plan_text(response)
    return _reply_report(response)


# --------------------------------------------------------------------------- approval prompts


def argument_text(value: object) -> str:
    """An argument as an approver reads it: strings as written, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def targets_text(step: PlanStep) -> str:
    """Every target of a step, with its address when the name is not the address."""
    return ", ".join(t.name if t.name == t.address else f"{t.name} ({t.address})" for t in step.targets)


def plan_text(prompt: ApprovalPrompt) -> str:
    """The whole plan of an approval prompt as plain text, every argument whole (files, console)."""
    lines = [
        f"Approval needed ({prompt.risk.value}): {prompt.summary}",
        f"Requested by {prompt.requester_name or prompt.requester}; execution {prompt.execution_id}; "
        f"expires {prompt.expires_at:%Y-%m-%d %H:%M:%S UTC}",
        f"Plan digest {prompt.digest} (shown as {short_digest(prompt.digest)})",
        "",
    ]
    notes = plan_notes(prompt.plan)
    if notes:
        lines += [*notes, ""]
    lines.append(steps_text(prompt.plan))
    return "\n".join(lines)


LEVEL_ICONS = {"low": "🟢", "medium": "🟠", "high": "🔴"}


def plan_notes(plan: Plan) -> list[str]:
    """What an approver reads before the steps: the impact (risk line first), any freeze
    override, and whether the LLM confirmed a reading of free text; [] when there is none."""
    lines = impact_lines(plan.impact) if plan.impact is not None else []
    lines += destination_lines(plan)
    checked = plan.interpretation.confirmation if plan.interpretation is not None else ""
    if checked in messages.READING_CHECKED:
        lines.append(messages.READING_CHECKED[checked])
    if plan.undo_of:
        lines.insert(0, f"↩️ Undo of execution {plan.undo_of}: approving runs the reverse of that change")
    done = plan.freeze_override
    if done is not None:
        text = messages.FREEZE_OVERRIDDEN.format(by=done.by, reason=done.reason, windows=done.described)
        lines.insert(min(1, len(lines)), f"⚠️ {text}")
    return lines


def destination_lines(plan: Plan) -> list[str]:
    """The assets a step writes on besides its targets (a copy's destination), one line a step."""
    return [
        f"✍️ {step.tool} writes on {', '.join(_asset_text(d) for d in step.destinations)} "
        f"(besides its targets)"
        for step in plan.steps
        if step.destinations
    ]


def _asset_text(asset: AssetRef) -> str:
    return f"{asset.name} ({asset.environment})" if asset.environment else asset.name


def impact_lines(impact: Impact) -> list[str]:
    """What a change reaches, as plain lines: the risk line first, then the facts behind it."""
    lines = [f"{LEVEL_ICONS[impact.level]} {impact.risk}"]
    where = [f"Hosts: {impact.hosts}"]
    if impact.environments:
        where.append("environments: " + ", ".join(impact.environments))
    if impact.locations:
        where.append("locations: " + ", ".join(impact.locations))
    if impact.production:
        where.append("production: " + ", ".join(impact.production))
    lines.append(" · ".join(where))
    if impact.dependants:
        more = (
            " (list capped by policy impact.max_dependants; more exist)" if impact.dependants_capped else ""
        )
        lines.append(
            f"Depend on them ({len(impact.dependants)}){more}: "
            + "; ".join(map(_dependant, impact.dependants))
        )
    if impact.locked:
        held = ", ".join(f"{t} (execution {e})" for t, e in sorted(impact.locked.items()))
        lines.append(f"Locked by another run: {held}")
    for target, change in sorted(impact.recent.items()):
        lines.append(
            f"Changed recently: {target} by {change.by} at {change.at:%H:%M UTC} "
            f"({change.tool}, execution {change.execution_id})"
        )
    if impact.four_eyes:
        lines.append("Four eyes by policy: " + "; ".join(impact.four_eyes))
    for preview in impact.previews:
        shown = f"{preview.target}: " if preview.target else ""
        lines.append(f"🔍 {shown}{preview.summary}")
        lines += [f"    {line}" for line in preview.text.splitlines()]
    return lines


def _dependant(dependant: Dependant) -> str:
    flags = [dependant.environment or "no environment"]
    if dependant.production:
        flags[0] = f"⚠️ {flags[0]}"
    if dependant.outside_scope:
        flags.append("outside your scope")
    return f"{dependant.name} ({', '.join(flags)}; {dependant.via})"


def steps_text(plan: Plan) -> str:
    """Every step of a plan as plain text: tool and risk, every target, every argument whole."""
    lines: list[str] = []
    for index, step in enumerate(plan.steps, 1):
        lines += [f"{index}. {step.tool} [{step.risk.value}]"]
        lines.append(f"   targets ({len(step.targets)}): {targets_text(step) or 'none'}")
        lines += [f"   {line}" for line in step.outline]  # a runbook: its steps and rollout
        for name, value in shown_args(step):
            text = argument_text(value)
            if "\n" in text or len(text) > 100:
                lines += [
                    f"   {name} ({len(text):,} characters):",
                    *(f"   | {line}" for line in text.split("\n")),
                ]
            else:
                lines.append(f"   {name}: {text}")
    return "\n".join(lines) + "\n"


def undo_lines(offer: UndoOffer) -> list[str]:
    """What the result's Undo would run and until when, and the changes that have no inverse."""
    lines = []
    if offer.until is not None:
        lines.append(f"↩️ Undo possible until {offer.until:%Y-%m-%d %H:%M UTC}: " + "; ".join(offer.steps))
    else:
        lines.append("↩️ Nothing of this can be undone.")
    lines += [f"Cannot be undone: {why}" for why in offer.none]
    return lines


def _reply_report(reply: Reply) -> str:
    parts = [reply.summary, ""]
    parts += [section_report(s) for s in reply.sections]
    if reply.recommendations:
        parts += ["Recommendations:"] + [f"- {r}" for r in reply.recommendations]
    if reply.undo is not None:
        parts += undo_lines(reply.undo)
    if reply.execution_id:
        parts += ["", f"execution {reply.execution_id}"]
    return "\n".join(parts).rstrip() + "\n"
