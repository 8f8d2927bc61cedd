"""Adaptive Card `Table` elements (schema 1.5) for structured results (processes, disks, hops...).

The card renderer asks for fewer rows while the card is over Teams' size budget; a table that
does not show every row says so in its heading. Cells hold tool text as `TextRun`s, which Teams
never reads as markdown.
"""

from __future__ import annotations

from typing import Any

from adapters.rendering import column_weights, numeric_columns, table_heading
from pipeline.contracts import ReplySection, ReplyTable

MAX_COLUMNS = 12  # beyond this a card in a Teams column is unreadable; the heading says so
Element = dict[str, Any]


def table_elements(section: ReplySection, table: ReplyTable, rows: int) -> list[Element]:
    """A bold heading and a `Table` of the first `rows` rows (header row first); heading only at 0."""
    columns = table.columns[:MAX_COLUMNS]
    shown = table.rows[:rows]
    heading = table_heading(section, table, len(shown))
    if len(columns) < len(table.columns):
        heading += f" (first {len(columns)} of {len(table.columns)} columns)"
    head = _text(heading, weight="Bolder")
    if not shown:
        return [head]
    right = numeric_columns(table)
    weights = column_weights(table, cap=30)
    element = {
        "type": "Table",
        "firstRowAsHeader": True,
        "showGridLines": True,
        "gridStyle": "default",
        "columns": [
            {"width": weights[i], "horizontalCellContentAlignment": "Right" if right[i] else "Left"}
            for i in range(len(columns))
        ],
        "rows": [_row(columns, weight="Bolder"), *(_row(r[: len(columns)]) for r in shown)],
    }
    return [head, element]


def _row(cells: tuple[str, ...], **style: Any) -> Element:
    return {
        "type": "TableRow",
        "cells": [{"type": "TableCell", "items": [_text(c or "-", size="Small", **style)]} for c in cells],
    }


def _text(text: str, **style: Any) -> Element:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}
