"""Smuggled shell syntax: a request for a read ('uptime on web-01 | sh -c reboot', a match of
'nginx; rm -rf /', a path ending in `reboot`) is asked back, never planned as its harmless part.
Commands run only through a tool whose argument is a command or a script, shown for approval."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.contracts import ToolCall
from pipeline.nlu import messages
from pipeline.nlu.targeting import Clarify
from pipeline.nlu.tokens import unquoted
from pipeline.nlu.toolwords import ToolWords

_SHELL_IN_VALUE = re.compile(r"[;|`<>]|\$\(|&&")
_SHELL_IN_TEXT = re.compile(r"(?<![|])\|(?![|])|\$\(|\w`\w")
_DATA_KINDS = frozenset({"command", "code", "message"})


def no_smuggled_commands(calls: Sequence[ToolCall], text: str, words: ToolWords) -> None:
    """Clarify when shell syntax would reach a tool that does not run commands."""
    tools = [words.get(c.tool) for c in calls]
    if any(t is not None and t.kinds() & {"command", "code"} for t in tools):
        return
    values = [
        str(value)
        for call, tool in zip(calls, tools, strict=True)
        for key, value in call.args.items()
        if isinstance(value, str) and not (tool is not None and _data(tool.slot(key)))
    ]
    outside = " ".join(text[a:b] for a, b in unquoted(text))
    if any(_SHELL_IN_VALUE.search(v) for v in values) or _SHELL_IN_TEXT.search(outside):
        raise Clarify(messages.shell_syntax())


def _data(slot: object) -> bool:
    return getattr(slot, "kind", "") in _DATA_KINDS
