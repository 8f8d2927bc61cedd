"""A tool's structured data as a reader wants it: scalar facts on one line, lists of records as
tables, and nothing the one-line summary already says.

    {"total": 120, "matched": 2, "processes": [{"pid": 1377, "user": "root", ...}, ...]}
    summary "2 of 120 processes match 'sshd'"
        -> facts ()                       (120 and 2 are in the summary)
        -> tables (processes: pid | user | cpu | mem | command)

Every platform renders the same `ReplyTable`s (console: rich, Slack: Block Kit, Teams: Adaptive
Card tables), so the shape is decided once, here.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.contracts import ReplyTable
from pipeline.redaction import REDACTED, is_secret_key

MAX_FACTS = 12
MAX_ROWS = 200  # rows kept per table; the table says how many there were
CELL_LIMIT = 200
LIST_LIMIT = 20  # items of a list shown in one fact or cell
_SPLIT = re.compile(r"[\s,;()/]+")


def facts_and_tables(
    data: dict[str, Any], summary: str = ""
) -> tuple[tuple[tuple[str, str], ...], tuple[ReplyTable, ...]]:
    """Scalar values as (label, text) facts, records as tables; facts the summary states are left out."""
    facts: list[tuple[str, str]] = []
    tables: list[ReplyTable] = []
    _collect(data, "", facts, tables)
    said = _words(summary)
    kept = [(label, value) for label, value in facts if not _stated(value, said, summary)]
    return tuple(kept[:MAX_FACTS]), tuple(tables)


def _collect(
    data: dict[str, Any], prefix: str, facts: list[tuple[str, str]], tables: list[ReplyTable]
) -> None:
    for key, value in data.items():
        label = f"{prefix}{key}"
        if is_secret_key(str(key)) and value not in (None, ""):
            facts.append((label, REDACTED))
        elif _records(value):
            tables.append(table(label, value))
        elif isinstance(value, dict) and len(value) > MAX_FACTS // 2 and all(map(_scalar, value.values())):
            _map(label, value, facts, tables)
        elif isinstance(value, dict):
            _collect(value, f"{label}.", facts, tables)
        elif value not in (None, "", [], ()):
            facts.append((label, cell(value)))


def _map(label: str, value: dict[str, Any], facts: list[tuple[str, str]], tables: list[ReplyTable]) -> None:
    """A map of many entries: grouped by value when the values are a few states ('ports closed:
    20, 21, ...'), else a two-column table."""
    groups: dict[str, list[str]] = {}
    for key, state in value.items():
        groups.setdefault(cell(state), []).append(str(key))
    if len(groups) * 2 <= len(value):
        facts += [(f"{label} {state}", cell(keys)) for state, keys in groups.items()]
    else:
        tables.append(table(label, [{"name": k, "value": v} for k, v in value.items()]))


def table(title: str, records: list[dict[str, Any]]) -> ReplyTable:
    """Records as a table: columns in the order keys first appear, empty columns left out."""
    columns = list(dict.fromkeys(k for r in records for k in r))
    kept = records[:MAX_ROWS]
    columns = [c for c in columns if any(r.get(c) not in (None, "", [], {}) for r in kept)]
    rows = tuple(
        tuple(REDACTED if is_secret_key(c) and r.get(c) else cell(r.get(c)) for c in columns) for r in kept
    )
    return ReplyTable(title=title, columns=tuple(columns), rows=rows, total=len(records))


def cell(value: object) -> str:
    """One value as text: numbers plainly, yes/no, lists joined, long text cut with an ellipsis."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, list | tuple):
        shown = ", ".join(cell(v) for v in value[:LIST_LIMIT])
        text = shown + (f", … ({len(value) - LIST_LIMIT} more)" if len(value) > LIST_LIMIT else "")
    elif isinstance(value, dict):
        text = ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    else:
        text = str(value)
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def _records(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _words(summary: str) -> set[str]:
    return {_number(w.strip("'\"").rstrip("%:.").lower()) for w in _SPLIT.split(summary) if w}


def _stated(value: str, said: set[str], summary: str) -> bool:
    """The summary already says this value ('3/3 replies' states sent 3 and received 3)."""
    if " " in value:
        return value.lower() in summary.lower()
    return _number(value.lower()) in said


def _number(word: str) -> str:
    try:
        return f"{float(word):g}"
    except ValueError:
        return word
