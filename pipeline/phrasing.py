"""How people ask for a tool, declared beside it: the words the understanding layer reads.

A tool's declaration carries its phrasing (Python ``@toolset.tool(..., phrasing=Phrasing(...))``
or a catalog file's ``phrasing:`` block) and, for a change, its counterparts (the read that
answers a question about it). The understanding layer (`pipeline.nlu`) holds no tool names and
no per-tool word lists of its own: adding a tool, built-in or defined, touches one place.

    Phrasing(
        verbs=("flush", "purge"),                       # action words pointing at the tool
        objects=("cache",),                             # what the action is about
        states=("warm", "cold"),                        # states a question or report names
        slots={"app": Slot(leads=("app",), follows=("cache",))},
        patterns=("flush the {app} cache on {targets}",),
        examples=("flush the shop cache on web-01",),
    )

Every field is optional. Words may be phrases ("shut down", "look up"); inflections
("restarting", "restarted", "caches") are understood from the base form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

SlotKind = Literal[
    "",  # from the parameter's type: a choice (Literal), a number, free text, a duration, a path
    "service",  # a service (unit) name: nginx, W3SVC, 'the foo-agent service'
    "port",  # ports: numbers, ranges (8000-8010) and protocol names (ssh, https)
    "path",  # an absolute path on the target
    "duration",  # '90s', '10 min', 'an hour', '2m30s' (stored as seconds)
    "size",  # '4096 bytes', '2 KB', '1 MiB' (stored as bytes; a bare number only after its cue)
    "number",  # a whole number, found by the words around it ('5 times', 'last 200 lines')
    "command",  # a command line: quoted, or the words after the verb ('run df -h on web-01')
    "code",  # a script body: a fenced block, a code span or quoted text
    "text",  # free text: quoted, or one word led by a cue ('matching java', 'java processes')
    "message",  # the text of a message ('... that the backup finished', '... saying "done"')
    "recipient",  # an e-mail address, #channel, phone number, webhook URL or a named chat channel
    "dns_name",  # a DNS name or address to look up
    "filter",  # an inventory attribute the request selects by (environment, location, tags, ...)
    "field",  # an inventory attribute the request sets (address, environment, tags, ...)
    "new_name",  # the name of an asset that is not in the inventory yet
    "asset",  # another inventory asset the tool works with, led by a cue ('to db-01'); not a target
]


@dataclass(frozen=True)
class Slot:
    """How people write one argument of a tool.

    - `kind`: what kind of written value fills it, when the parameter's type does not say so.
    - `leads`: words written just before the value ('matching' java, '-n' 50, 'timeout' 30s).
    - `follows`: words written just after the value (5 'times', 200 'lines', java 'processes').
    - `values`: value -> words and phrases that mean it. For a choice, the choice's own name
      always counts ({"restart": ("bounce", "kick")}); for other arguments a phrase stands for a
      whole value ({"/var/log/syslog": ("syslog",)}, {"1-65535": ("all ports",)}).
    - `by_os`: the value to use when none is written, by the targets' os ({"windows": "powershell"}).
    - `narrows`: the value is something the hosts run (an installed package): when the inventory
      lists it as a service, a selection ('across prod') narrows to the assets running it.
    """

    kind: SlotKind = ""
    leads: tuple[str, ...] = ()
    follows: tuple[str, ...] = ()
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_os: Mapping[str, str] = field(default_factory=dict)
    narrows: bool = False


@dataclass(frozen=True)
class Phrasing:
    """How people ask for a tool: the words the understanding layer reads from the declaration.

    - `verbs`: action words that point at the tool ("flush", "purge", "shut down").
    - `objects`: nouns the action or question is about ("cache", "caches").
    - `states`: words for the states a question or report about it names ("running", "down").
    - `questions`: question words that ask for its answer ("which", "how many", "who owns").
    - `slots`: argument name -> how its values are written (`Slot`).
    - `patterns`: whole phrasings with `{param}` and `{targets}` holes,
      e.g. ``"flush the {app} cache on {targets}"``; their words count as the tool's words and
      each hole tells where an argument is written.
    - `synonyms`: a word of the patterns -> other words people use for it.
    - `examples`: complete requests, for help, suggestions and the LLM's prompt (each must plan).
    - `untargeted`: what a request that names no targets means: "ask" which hosts, "all", or
      "none" (the tool then runs once without a target: a DNS lookup asks the bot's resolver).
    - `targets_after`: the tool's targets are only the hosts written right after these words
      ('ask ns1 for ...', '... against ns1'); other hosts named are its arguments (a name to look up).
    - `words_required`: the tool is chosen only when one of its verbs, objects or questions is
      written; the values it takes alone point at other tools (a path alone is read, never
      transferred: fetching needs 'download', 'attach', 'grab a copy').
    """

    verbs: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    slots: Mapping[str, Slot] = field(default_factory=dict)
    patterns: tuple[str, ...] = ()
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    untargeted: Literal["ask", "all", "none"] = "ask"
    targets_after: tuple[str, ...] = ()
    words_required: bool = False


@dataclass(frozen=True)
class Call:
    """A call of another tool made from a declaring tool's arguments.

    `args` values are literals, or ``"{param}"`` to copy the declaring tool's argument.
    `target`: for an undo, the inventory asset (its fields) the call runs on when that is not the
    target the change ran on (a copy is undone on the host it was copied to).
    """

    tool: str
    args: Mapping[str, Any] = field(default_factory=dict)
    target: Mapping[str, Any] | None = None

    def render(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments for a call of the declaring tool made with `values`."""
        return {key: _fill(value, values) for key, value in self.args.items()}


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        return values.get(template[1:-1])
    if isinstance(template, list | tuple):
        return [_fill(item, values) for item in template]
    return template


@dataclass(frozen=True)
class Counterparts:
    """Other tools that answer for a change tool.

    - `read`: the read that answers a question, a report or a hypothetical about the change
      ("should I restart nginx?" -> the service's status; "would a reboot help?" -> uptime);
      the change itself is then offered as a suggestion, never planned.

    Room to grow: a check (read-only probe predicting what the change would do) and an undo.
    """

    read: Call | None = None
