"""A bot command quoted inside a message is what the message talks about.

    should I /opsconductor windows.service_restart W3SVC on win-app-01?   advice about it
    is it safe to run `/opsconductor reboot db-02`?                       advice about it
    did someone run /opsconductor reboot db-02 last night?                the past
    please run `/opsconductor reboot db-02`                               an order: it is sent

The command is read in the structured form (exactly what it names, never a command line of its
own or a path); the words around it give the speech act, read like the words around a change
word (`acts.speech_act`). Only an order sends it; otherwise its matching read answers and the
command is offered back as a suggestion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.nlu.acts import Act, speech_act
from pipeline.nlu.lexicon import vocab

_COMMAND = re.compile(
    r"(?P<open>`{1,3}|\")?\s*/opsconductor\s+"
    r"(?:(?P<quoted>[^`\"\n]+?)\s*(?P=open)|(?P<bare>[^`\"\n?!]+?)(?=\s*(?:[?!\n]|\.(?:\s|$)|$)))",
    re.IGNORECASE,
)
# the verb a quoted command is the object of: 'run', 'send', 'type' it (any tense)
_LEADS = vocab(
    """
    run ran running runs send sent sending sends type typed typing use used using execute executed
    do did doing issue issued try tried fire fired
    """
)
_WORDS = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Embedded:
    """A quoted command (`command`, without the bot's name) and the act of the words around it."""

    command: str
    act: Act


def embedded_command(text: str) -> Embedded | None:
    """The bot command written inside `text` after other words, if any (a message that is the
    command itself is the structured form, read as it is)."""
    found = _COMMAND.search(text)
    if found is None or not text[: found.start()].strip(" \t`\"'"):
        return None
    command = (found.group("quoted") or found.group("bare") or "").strip()
    if found.group("open") and found.group("quoted") is None:
        return None
    before = _WORDS.findall(text[: found.start()].lower())
    after = _WORDS.findall(text[found.end() :].lower())
    word = before.pop() if before and before[-1] in _LEADS else "run"
    return Embedded(command, speech_act([*before, word, *after], len(before)))
