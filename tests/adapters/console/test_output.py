"""Console output: drawn for a terminal, unpadded on a pipe, wrapped only at COLUMNS."""

from __future__ import annotations

import io

import pytest
from rich.table import Table

from adapters.console.output import PIPE_WIDTH, UnpaddedLines, stdout_console


def test_unpadded_lines_drop_trailing_spaces_only() -> None:
    out = io.StringIO()
    stream = UnpaddedLines(out)
    stream.write("a  b   \nc")
    stream.write("d  \n  e  ")
    stream.flush()
    assert out.getvalue() == "a  b\ncd\n  e"


def test_a_table_on_a_pipe_is_as_wide_as_its_content(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    out = io.StringIO()
    console = stdout_console(out)
    assert console.width == PIPE_WIDTH and not console.is_terminal
    table = Table("target", "details", box=None)
    table.add_row("localhost", "x" * 120)
    console.print(table)
    lines = out.getvalue().splitlines()
    assert lines[1].strip() == "localhost  " + "x" * 120 and lines[1].endswith("x")  # one line, unpadded


def test_columns_sets_the_width_of_piped_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "50")
    out = io.StringIO()
    stdout_console(out).print("word " * 30)
    assert max(len(line) for line in out.getvalue().splitlines()) <= 50
