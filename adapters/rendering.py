"""Platform-neutral text shaping for chat renderers: shortening with a marker, plain reports.

Chat platforms cap message sizes (Slack: 3,000 characters per section, ~40,000 per
message). Renderers shorten long tool output with `shorten`, which always says how much
was cut, and can attach the full text produced by `plain_report` as a file instead.
"""

from __future__ import annotations

from pipeline.contracts import ApprovalPrompt, Reply, ReplySection, Response, TargetStatus

STATUS_ICONS: dict[TargetStatus | None, str] = {
    TargetStatus.OK: "✅",
    TargetStatus.FAILED: "❌",
    TargetStatus.UNREACHABLE: "🔌",
    TargetStatus.TIMEOUT: "⏱️",
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
    """One target's section as plain text: title, facts, full output."""
    lines = [f"{status_icon(section.status)} {section.title}"]
    lines += [f"  {label}: {value}" for label, value in section.facts]
    if section.text:
        lines += ["", section.text, ""]
    return "\n".join(lines)


def plain_report(response: Response) -> str:
    """The whole response as plain text, nothing shortened (for files and logs)."""
    if isinstance(response, ApprovalPrompt):
        steps = "\n".join(
            f"- {s.tool} {s.args} on {', '.join(s.target_names) or '-'}" for s in response.plan.steps
        )
        return f"{response.summary}\n{steps}\n"
    return _reply_report(response)


def _reply_report(reply: Reply) -> str:
    parts = [reply.summary, ""]
    parts += [section_report(s) for s in reply.sections]
    if reply.recommendations:
        parts += ["Recommendations:"] + [f"- {r}" for r in reply.recommendations]
    if reply.execution_id:
        parts += ["", f"execution {reply.execution_id}"]
    return "\n".join(parts).rstrip() + "\n"
