"""Guards on a deterministic reading: questions and smuggled shell syntax never become changes."""

from __future__ import annotations

import re

from pipeline.contracts import ToolCall
from pipeline.nlu import messages
from pipeline.nlu.decision import Decision
from pipeline.nlu.entities import Clause
from pipeline.nlu.lexicon import FILLER

ACTION_TOOLS = frozenset(
    {
        "automation.service_control",
        "automation.run_command",
        "automation.run_script",
        "automation.reboot",
        "communication.notify",
        "assets.create",
        "assets.update",
        "assets.delete",
    }
)


class Clarify(Exception):
    """Ask the user back; the message says what is unclear."""


_COMMAND_TOOLS = frozenset({"automation.run_command", "automation.run_script"})
_SHELL_IN_VALUE = re.compile(r"[;|`<>]|\$\(|&&")
_SHELL_IN_TEXT = re.compile(r"(?<![|])\|(?![|])|\$\(|\w`\w")
_QUOTED_SPANS = re.compile(r"```[\s\S]+?```|`[^`]*`|\"[^\"]*\"|(?<!\w)'[^'\n]*'(?!\w)")
_DATA_ARGS = frozenset({"message", "template", "command", "script"})


def no_smuggled_commands(calls: list[ToolCall], text: str) -> None:
    """Shell syntax in a request for a read tool ('uptime on web-01 | sh -c reboot', a match of
    'nginx; rm -rf /', a path ending in `reboot`) is asked back, never planned as the harmless part:
    commands run only through run_command, shown as such for approval."""
    if any(c.tool in _COMMAND_TOOLS for c in calls):
        return
    values = [str(v) for c in calls for k, v in c.args.items() if k not in _DATA_ARGS and isinstance(v, str)]
    outside = _QUOTED_SPANS.sub(" ", text)
    if any(_SHELL_IN_VALUE.search(v) for v in values) or _SHELL_IN_TEXT.search(outside):
        raise Clarify(messages.shell_syntax())


def diagnose_why(clause: Clause, decision: Decision) -> Decision:
    """'why is nginx not starting on web-02?' asks about a state; it never starts anything.

    A service change becomes a status check; other changes are asked back.
    """
    first = next((t.low for t in clause.tokens if t.kind == "word" and t.low not in FILLER), "")
    if first not in {"why", "how"} or decision.tool not in ACTION_TOOLS:
        return decision
    words = [t.low for t in clause.tokens if t.kind == "word"]
    if words[1:3] in (["don't", "you"], ["dont", "you"], ["not"]) or words[1:2] == ["not"]:
        return decision  # "why don't you restart it", "why not restart it": a suggestion
    if first == "how" and "come" not in {t.low for t in clause.tokens}:
        return decision
    if decision.tool == "automation.service_control":
        return Decision("automation.service_status", min(decision.confidence, 0.7))
    return Decision(None, 0.5, "That reads as a question about why; tell me what to check or change.")
