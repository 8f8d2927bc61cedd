"""Where console replies go: the terminal as rich draws it, or a pipe without the padding.

Rich lays text out for a terminal: on a pipe it assumes 80 columns and pads every table
row to them with spaces. Piped output (`opsconductor ask ... | grep`, a log file) instead
gets lines as long as their content, wrapped only at `COLUMNS` when that is set.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO, cast

from rich.console import Console

PIPE_WIDTH = 240  # wide enough that a summary line stays one line; COLUMNS overrides it


class UnpaddedLines(io.TextIOBase):
    """A text stream that drops the spaces at the end of every line it passes on."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.pending = ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.out.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.out.write(self.pending.rstrip(" "))
            self.pending = ""
        self.out.flush()


def stdout_console(stream: TextIO | None = None) -> Console:
    """A console on stdout (or `stream`): as is on a terminal, unpadded on a pipe or file."""
    out = stream if stream is not None else sys.stdout
    if out.isatty():
        return Console(file=out, highlight=False)
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH
    unpadded = cast(TextIO, UnpaddedLines(out))  # a text stream: write, flush, isatty
    return Console(file=unpadded, highlight=False, width=width, soft_wrap=False)
