"""Block Kit tables for structured results (processes, disks, hops, ports...).

Slack allows one `table` block per message (`only_one_table_allowed`), of at most 100 rows of 20
cells, so the reply's first table is a real table block and any other is drawn in monospace
inside a section (3,000 characters). Rows that do not fit are left out with a line saying how
many are shown; the full report, every row included, is then attached as a file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.rendering import column_weights, numeric_columns, table_heading, table_text
from pipeline.contracts import ReplySection, ReplyTable

TABLE_ROWS = 100  # Slack's limit, the header row included
TABLE_CELLS = 20  # cells per row
TABLE_TEXT = 12_000  # characters of cell text in the table block: a share of the ~40,000 per message
SECTION_LIMIT = 3_000
Block = dict[str, Any]


def table_block(
    section: ReplySection, table: ReplyTable, escape: Callable[[str], str]
) -> tuple[list[Block], bool]:
    """A heading (context) and a `table` block with as many rows as Slack takes; True when cut."""
    columns = table.columns[:TABLE_CELLS]
    rows, used = [], sum(map(len, columns))
    for row in table.rows[: TABLE_ROWS - 1]:
        used += sum(len(c) for c in row[:TABLE_CELLS])
        if used > TABLE_TEXT:
            break
        rows.append(row[:TABLE_CELLS])
    right = numeric_columns(table)[:TABLE_CELLS]
    weights = column_weights(table)
    widest = max(range(len(columns)), key=lambda i: weights[i])
    settings = [
        {"align": "right"} if right[i] else ({"is_wrapped": True} if i == widest else {"align": "left"})
        for i in range(len(columns))
    ]
    block = {
        "type": "table",
        "column_settings": settings,
        "rows": [[_cell(c) for c in columns], *([_cell(c) for c in row] for row in rows)],
    }
    heading = table_heading(section, table, len(rows))
    if len(columns) < len(table.columns):
        heading += f" (first {len(columns)} of {len(table.columns)} columns)"
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{escape(heading)}*"}]}
    cut = len(rows) < max(table.total, len(table.rows)) or len(columns) < len(table.columns)
    return [context, block], cut


def text_table_block(
    section: ReplySection, table: ReplyTable, escape: Callable[[str], str]
) -> tuple[Block, bool]:
    """The table in monospace inside one section, with as many rows as fit; True when cut."""
    shown = len(table.rows)
    while True:
        heading = escape(table_heading(section, table, shown))
        text = f"*{heading}*\n```{escape(table_text(table, shown))}```"
        if len(text) <= SECTION_LIMIT or shown == 0:
            break
        shown = min(shown - 1, shown * SECTION_LIMIT // len(text))
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}
    return block, shown < max(table.total, len(table.rows))


def _cell(text: str) -> Block:
    return {"type": "raw_text", "text": text or "-"}
