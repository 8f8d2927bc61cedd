"""Render neutral replies and approval prompts for a terminal (rich), and as JSON for scripts."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from adapters.rendering import (
    numeric_columns,
    plan_notes,
    steps_text,
    table_heading,
    targets_table,
    undo_lines,
)
from pipeline.contracts import (
    ApprovalPrompt,
    Reply,
    ReplySection,
    ReplyTable,
    Response,
    TargetStatus,
    short_digest,
)

MAX_OUTPUT_LINES = 40
MAX_FACT_COLUMNS = 5
STATUS_STYLE = {
    TargetStatus.OK: "green",
    TargetStatus.FAILED: "red",
    TargetStatus.UNREACHABLE: "red",
    TargetStatus.TIMEOUT: "yellow",
    TargetStatus.UNCERTAIN: "bold red",
    TargetStatus.SKIPPED: "dim",
}
OUTCOME_STYLE = {"refused": "red", "error": "red", "clarify": "yellow"}


def render(response: Response) -> RenderableType:
    if isinstance(response, ApprovalPrompt):
        return _approval(response)
    return _reply(response)


def _reply(reply: Reply) -> RenderableType:
    parts: list[RenderableType] = [Text(reply.summary, style=OUTCOME_STYLE.get(reply.outcome, "bold"))]
    if reply.sections:
        parts.append(_sections_table(reply.sections))
        for section in reply.sections:
            for data in section.tables:
                parts += [Text(table_heading(section, data, len(data.rows)), style="bold"), _table(data)]
        parts += [_output_panel(s) for s in reply.sections if s.text]
    if reply.recommendations:
        parts.append(Text("Recommendations:", style="bold"))
        parts += [Text(f"  • {r}") for r in reply.recommendations]
    parts += [Text(f"file: {path}", style="cyan") for path in reply.files]
    if reply.suggestions:  # sending the number sends that request (the conversation keeps them)
        parts.append(Text("Send a number or the request:", style="bold"))
        parts += [Text(f"  {n}. {s}") for n, s in enumerate(reply.suggestions, 1)]
    if reply.undo is not None:
        parts += [Text(line, style="cyan") for line in undo_lines(reply.undo)]
        if reply.undo.until is not None and reply.execution_id:
            parts.append(Text(f"To undo: opsconductor undo {reply.execution_id}", style="dim"))
    return Group(*parts)


def _sections_table(sections: tuple[ReplySection, ...]) -> Table:
    """One row per target (the shared overview): status in its colour, then the facts."""
    overview = targets_table(sections, MAX_FACT_COLUMNS)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in overview.columns:
        table.add_column(
            escape(column), overflow="fold" if column not in {"target", "status"} else "ellipsis"
        )
    for section, (title, status, *cells) in zip(sections, overview.rows, strict=True):
        style = STATUS_STYLE[section.status or TargetStatus.OK]
        table.add_row(escape(title), Text(status, style=style), *map(escape, cells))
    return table


def _table(data: ReplyTable) -> Table:
    """A tool's records (processes, disks, hops...) as a table of their own, every row shown."""
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for column, right in zip(data.columns, numeric_columns(data), strict=True):
        table.add_column(escape(column), justify="right" if right else "left", overflow="fold")
    for row in data.rows:
        table.add_row(*map(escape, row))
    return table


def _output_panel(section: ReplySection) -> Panel:
    lines = section.text.splitlines()
    shown = "\n".join(lines[-MAX_OUTPUT_LINES:])
    if len(lines) > MAX_OUTPUT_LINES:
        shown = f"… ({len(lines) - MAX_OUTPUT_LINES} earlier lines not shown)\n{shown}"
    return Panel(Text(shown), title=escape(section.title), title_align="left", expand=False)


def _approval(prompt: ApprovalPrompt) -> RenderableType:
    """The whole plan, every argument whole (a terminal has no size limit), and its digest."""
    expires = prompt.expires_at.strftime("%H:%M UTC")
    impact = [Text(line) for line in plan_notes(prompt.plan)]
    body = Group(
        Text(prompt.summary, style="bold yellow"),
        *impact,
        Text(steps_text(prompt.plan).rstrip("\n")),
        Text(
            f"risk: {prompt.risk.value} · requested by {prompt.requester_name} · "
            f"expires {expires} · id {prompt.execution_id} · plan {short_digest(prompt.digest)}",
            style="dim",
        ),
    )
    return Panel(body, title="Approval needed", title_align="left", border_style="yellow")


def as_json(response: Response) -> dict[str, Any]:
    """The structured result for scripts: outcome, plan, step results."""
    if isinstance(response, ApprovalPrompt):
        return {
            "outcome": "awaiting_approval",
            "summary": response.summary,
            "execution_id": response.execution_id,
            "needs_approval": True,
            "four_eyes": response.four_eyes,
            "expires_at": response.expires_at.isoformat(),
            "plan_digest": response.digest,
            "impact": response.plan.impact.model_dump(mode="json") if response.plan.impact else None,
            "freeze_override": (
                response.plan.freeze_override.model_dump(mode="json")
                if response.plan.freeze_override
                else None
            ),
            "plan": response.plan.model_dump(mode="json", exclude={"interpretation"}),
        }
    data = response.model_dump(mode="json", exclude={"plan": {"interpretation"}})
    data["needs_approval"] = False
    return data


def print_response(console: Console, response: Response) -> None:
    console.print(render(response))
