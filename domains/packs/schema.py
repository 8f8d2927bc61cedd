"""The format of a catalog file: one command tool (or, `kind: runbook`, one runbook) per file.

Validated with pydantic; `domains.packs.loader` turns a validated definition into a `ToolSpec`
and reports every problem as ``file:line: message``. See docs/catalog.md for the whole format.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipeline.contracts import Risk

NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
PARAM = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
HOLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
RESERVED = frozenset({"targets", "target", "timeout_s"})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|m|min|mins|h|hr|hours?|minutes?|seconds?)?\s*$")
_UNIT_S = {"ms": 0.001, "": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(value: Any) -> float:
    """'90s', '5m', '1h', '250ms' or a number (seconds) -> seconds; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text such as 30s, 5m, 1h")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value).lower())
    if match is None:
        raise ValueError(f"not a duration: {value!r} (write 30s, 5m, 1h or a number of seconds)")
    unit = match.group(2) or ""
    unit = "ms" if unit == "ms" else unit[:1]
    return float(match.group(1)) * _UNIT_S[unit]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ParamType = Literal["string", "integer", "boolean", "duration", "path", "enum"]
WrittenAs = Literal["", "service", "port", "text", "number", "dns_name", "recipient", "message", "command"]


class ParamDef(Strict):
    """One typed parameter. `required` defaults to true unless a `default` is given."""

    type: ParamType = "string"
    description: str = ""
    required: bool | None = None
    default: Any = None
    pattern: str | None = None  # string: the whole value must match (Python re)
    choices: tuple[str, ...] = ()  # string or enum: the allowed values
    min: int | None = None  # integer
    max: int | None = None
    max_length: int = Field(1024, ge=1, le=100_000)  # string
    kind: WrittenAs = ""  # how the value is written in chat, when the type does not say it
    words: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # value -> words people use
    leads: tuple[str, ...] = ()  # words written just before the value
    follows: tuple[str, ...] = ()  # words written just after it
    narrows: bool = False  # something the hosts run (a package): selections narrow to where it runs

    @field_validator("pattern")
    @classmethod
    def compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as err:
                raise ValueError(f"pattern does not compile: {err}") from None
        return value

    @model_validator(mode="after")
    def fits_type(self) -> ParamDef:
        if self.type == "enum" and not self.choices:
            raise ValueError("an enum needs choices")
        if self.type not in ("string", "enum") and (self.choices or self.pattern):
            raise ValueError(f"pattern and choices apply to string parameters, not {self.type}")
        if self.type != "integer" and (self.min is not None or self.max is not None):
            raise ValueError(f"min and max apply to integer parameters, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self

    @property
    def is_required(self) -> bool:
        return self.required if self.required is not None else self.default is None


class LinuxDef(Strict):
    """What runs on Linux: an argv list (each `{param}` stays inside one argument) or a script
    (parameters arrive as environment variables, upper-cased: {app} -> $APP)."""

    argv: tuple[str, ...] = ()
    script: str = ""
    shell: str = "/bin/sh"
    ok_codes: tuple[int, ...] = (0,)

    @model_validator(mode="after")
    def one_way(self) -> LinuxDef:
        if bool(self.argv) == bool(self.script):
            raise ValueError("give either argv (a list) or script, not both and not neither")
        if self.argv and HOLE.search(self.argv[0]):
            raise ValueError("argv[0] (the program) must be written out, not a {parameter}")
        if not self.shell.startswith("/") or any(c.isspace() for c in self.shell):
            raise ValueError("shell must be an absolute path such as /bin/sh or /bin/bash")
        return self


class WindowsDef(Strict):
    """What runs on Windows: a PowerShell body; the parameters arrive as typed PowerShell
    parameters named like the catalog's ({service} -> $service)."""

    powershell: str
    ok_codes: tuple[int, ...] = (0,)


class OutputDef(Strict):
    """How output becomes facts: the text, parsed JSON, or a regex's named groups."""

    format: Literal["text", "json", "regex"] = "text"
    regex: str | None = None

    @model_validator(mode="after")
    def regex_given(self) -> OutputDef:
        if (self.format == "regex") != (self.regex is not None):
            raise ValueError("format regex needs `regex:` (with named groups), and only it")
        if self.regex is not None:
            try:
                compiled = re.compile(self.regex, re.MULTILINE)
            except re.error as err:
                raise ValueError(f"regex does not compile: {err}") from None
            if not compiled.groupindex:
                raise ValueError("regex needs named groups, e.g. (?P<freed>\\d+)")
        return self

    def groups(self) -> tuple[str, ...]:
        return tuple(re.compile(self.regex).groupindex) if self.regex else ()


class PhrasingDef(Strict):
    """How people ask for it (see pipeline.phrasing.Phrasing)."""

    patterns: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    synonyms: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    examples: tuple[str, ...] = ()
    untargeted: Literal["ask", "all", "none"] = "ask"
    targets_after: tuple[str, ...] = ()
    words_required: bool = False


class ProbeDef(Strict):
    """`check:` of a change tool: read-only probes for check mode. Either the tool's own command
    with some arguments set (`args`, e.g. ``{dry_run: true}``), or a command of its own (`linux`,
    `windows`, as the tool's); its output is read by its own `output` and `summary` (the tool's
    when not given). It must change nothing."""

    args: dict[str, Any] = Field(default_factory=dict)
    linux: LinuxDef | None = None
    windows: WindowsDef | None = None
    output: OutputDef | None = None
    summary: str = ""

    @model_validator(mode="after")
    def one_way(self) -> ProbeDef:
        own = self.linux is not None or self.windows is not None
        if bool(self.args) == own:
            raise ValueError("give either args (the tool's command with them set) or linux/windows")
        return self


class UndoDef(Strict):
    """`undo:` of a change tool: the call that reverses it on the same targets (`args`: literals,
    or ``"{name}"`` for the tool's argument or a fact of its output), or `none`: why there is none."""

    tool: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    none: str = Field("", max_length=300)

    @model_validator(mode="after")
    def one_way(self) -> UndoDef:
        if bool(self.tool) == bool(self.none):
            raise ValueError("give either tool (with args) or none (why nothing reverses it)")
        if self.none and self.args:
            raise ValueError("args go with tool, not with none")
        return self


class ReadDef(Strict):
    """`read:` of a change tool: the read that answers a question, a report or a request for
    advice about the change ('should I restart W3SVC?' -> its status), on the same targets
    (`args`: literals, or ``"{name}"`` for the tool's argument)."""

    tool: str = Field(..., min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)


class ToolDefinition(Strict):
    """A command tool declared in a catalog file."""

    kind: Literal["tool"] = "tool"
    name: str
    description: str = Field(..., min_length=1, max_length=2000)
    risk: Risk
    targets: bool = True
    params: dict[str, ParamDef] = Field(default_factory=dict)
    linux: LinuxDef | None = None
    windows: WindowsDef | None = None
    timeout: float = Field(60.0, gt=0, le=86_400)
    output: OutputDef = OutputDef()
    summary: str = ""
    phrasing: PhrasingDef = PhrasingDef()
    check: ProbeDef | None = None
    undo: UndoDef | None = None
    read: ReadDef | None = None
    diagnoses: tuple[str, ...] = ()  # alert names it is the diagnosis for; "*": any alert (read only)

    _seconds = field_validator("timeout", mode="before")(lambda cls, v: seconds(v))

    @field_validator("name")
    @classmethod
    def dotted(cls, value: str) -> str:
        if not NAME.match(value) or len(value) > 128:
            raise ValueError("name must be dotted lower-case words, e.g. app.cache_flush")
        return value

    @field_validator("params")
    @classmethod
    def param_names(cls, value: dict[str, ParamDef]) -> dict[str, ParamDef]:
        for name in value:
            if not PARAM.match(name) or name in RESERVED:
                raise ValueError(f"{name!r} cannot be a parameter name (lower-case, not {sorted(RESERVED)})")
        return value

    @model_validator(mode="after")
    def runs_somewhere(self) -> ToolDefinition:
        if self.linux is None and self.windows is None:
            raise ValueError("say what runs: linux (argv or script) and/or windows (powershell)")
        if not self.targets:
            raise ValueError("a command tool runs on targets (targets: true)")
        if self.risk is Risk.READ and (self.check is not None or self.undo is not None):
            raise ValueError("check and undo are for change tools (risk write or critical)")
        if self.risk is Risk.READ and self.read is not None:
            raise ValueError("read is for change tools: a read tool answers questions itself")
        if self.diagnoses and self.risk is not Risk.READ:
            raise ValueError("diagnoses: only a read tool may diagnose alerts (risk: read)")
        return self


# --------------------------------------------------------------------------- runbooks

STEP_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CONDITION = re.compile(
    r"^\s*(?P<step>[a-z][a-z0-9_]*)\.(?P<fact>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:\s*(?P<op>==|!=|<=|>=|<|>|contains)\s*(?P<value>.+?))?\s*$"
)


class RunbookStep(Strict):
    """One step: a tool, its arguments (``{param}`` holes filled from the runbook's parameters),
    the steps it needs, a condition on earlier results, and what a failure does."""

    id: str = ""
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    when: str = ""  # 'before.ok', 'health.failed', 'check.status == active', 'ver.output contains 1.2'
    on_failure: Literal["stop", "continue", "rollback"] = "stop"

    @field_validator("when")
    @classmethod
    def condition(cls, value: str) -> str:
        if value and CONDITION.match(value) is None:
            raise ValueError(
                "when: write <step>.ok, <step>.failed or <step>.<fact> <op> <value> "
                "(op: == != < <= > >= contains)"
            )
        return value


class CheckDef(Strict):
    """The check run on each batch's hosts after the batch; a host failing it counts as failed."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class RolloutDef(Strict):
    """How the targets are taken: all at once, one at a time, or batches of `batch_size`; the
    rollout stops once more than `max_fail` hosts failed (Ansible's serial / max_fail)."""

    strategy: Literal["all", "serial", "batch"] = "all"
    batch_size: int | str = 1  # a number or "{param}"
    max_fail: int | str = 0
    check: CheckDef | None = None

    @field_validator("batch_size", "max_fail")
    @classmethod
    def number_or_hole(cls, value: int | str) -> int | str:
        if isinstance(value, str) and not HOLE.fullmatch(value.strip()):
            raise ValueError("a number or one {parameter}")
        if isinstance(value, int) and value < 0:
            raise ValueError("must not be negative")
        return value


class RunbookDefinition(Strict):
    """A runbook declared in a catalog file (`kind: runbook`)."""

    kind: Literal["runbook"]
    name: str
    description: str = Field(..., min_length=1, max_length=2000)
    risk: Risk | None = None  # at least the highest risk of its steps (the default)
    params: dict[str, ParamDef] = Field(default_factory=dict)
    steps: tuple[RunbookStep, ...] = Field(..., min_length=1, max_length=50)
    rollback: tuple[RunbookStep, ...] = ()
    rollout: RolloutDef = RolloutDef()
    timeout: float = Field(3600.0, gt=0, le=86_400)
    phrasing: PhrasingDef = PhrasingDef()
    diagnoses: tuple[str, ...] = ()  # as a tool's: only when every step only reads

    _seconds = field_validator("timeout", mode="before")(lambda cls, v: seconds(v))
    _dotted = field_validator("name")(lambda cls, v: ToolDefinition.dotted(v))
    _params = field_validator("params")(lambda cls, v: ToolDefinition.param_names(v))

    @model_validator(mode="after")
    def step_ids(self) -> RunbookDefinition:
        ids = self.ids()
        if len(set(ids)) != len(ids):
            raise ValueError(f"step ids must be unique: {', '.join(ids)}")
        for n, step in enumerate(self.rollback):
            if step.when or step.depends_on or step.on_failure != "stop":
                raise ValueError(f"rollback[{n}]: rollback steps take tool and args only")
        return self

    def ids(self) -> list[str]:
        """Each step's id (`id`, or the tool's last name part when unique, else step<n>)."""
        found = []
        for n, step in enumerate(self.steps, 1):
            if step.id:
                if not STEP_ID.match(step.id):
                    raise ValueError(f"steps[{n - 1}].id: lower-case letters, digits and _")
                found.append(step.id)
            else:
                found.append(f"step{n}")
        return found
