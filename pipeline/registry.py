"""Tools are declared data: one decorator gives the registry, RBAC, approval and LLM tool list.

A domain declares its tools on a `ToolSet`::

    network = ToolSet("network")

    class PingArgs(BaseModel):
        count: int = Field(3, ge=1, le=20)

    @network.tool("network.ping", PingArgs, risk=Risk.READ, timeout_s=10)
    async def ping(ctx: ToolContext, target: AssetRef | None, args: PingArgs) -> ToolOutput:
        \"\"\"Send ICMP echo requests and report latency and loss.\"\"\"

A change tool may declare `check=`: a function with the same signature that only reads, and says
per target what the change would do (check mode: "what would happen if...", the prompt's "Check
first" button, `ask --check`). It must change nothing; the executor runs it as a read. It may also
declare `undo=`: from the arguments and one target's output, the `Call` that reverses the change,
or a sentence saying why none exists (the result's Undo button plans the calls). With
`preview=True` the check also runs before the approval prompt, which shows what it reported
(write_file's diff), so the approver decides on the actual change.

A change tool that writes on an inventory asset besides its targets names the arguments that hold
it: `destinations=("to",)` (copy_file's destination). The planner resolves them in the inventory
(`PlanStep.destinations`: an unknown one is asked back), and from then on they count as the step's
targets for policy (grants, scope, freezes), impact (production, dependants, four eyes), the
approval prompt and the execution locks.

A read-only tool may declare `diagnoses=`: the alert names (Alertmanager's `alertname`) it is the
diagnosis for, ``"*"`` for any alert; the alert webhooks pick their diagnosis from these
declarations (`ToolRegistry.diagnosis_for`), never from a tool name written in code.

A tool may declare `ready=`: from the services the bot holds and the call's arguments, why the
call cannot run with this bot's setup (a notification channel nobody configured), or None. It is
asked when a plan is made, before any approval (`pipeline.readiness`).

The executor calls a tool once per target (fan-out, bounded) or once with
`target=None` when the tool takes no targets. A tool never checks roles, asks
for approval or talks to chat; it raises `ToolError` subclasses on failure.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from pydantic import BaseModel, ValidationError

from pipeline.contracts import AssetRef, Progress, Risk, TargetResult, ToolOutput
from pipeline.errors import InvalidRequest
from pipeline.phrasing import Call, Counterparts, Phrasing, Slot

__all__ = ["Call", "Counterparts", "Phrasing", "Slot", "ToolContext", "ToolRegistry", "ToolSet", "ToolSpec"]

T = TypeVar("T")


class StepGuard(Protocol):
    """Policy's answers for the running step (`pipeline.guard.StepGuard`); raise NotPermitted."""

    def check_path(self, path: str) -> None: ...

    def check_target(self, target: AssetRef) -> None: ...

    def check_address(self, target: AssetRef, address: str) -> None: ...

    def check_destination(self, address: str, what: str) -> None: ...


@dataclass
class ToolContext:
    """What a running tool may use: ids for records, and services by type.

    Services are registered by the composition root (`bot.app`) and looked up by
    the port type a domain declares, e.g. ``ctx.get(RemoteShell)``. The executor sets `guard`:
    a tool asks it about what only the run reveals (`check_path`, `check_address`).
    """

    execution_id: str
    step_id: str
    services: dict[type[Any], Any] = field(default_factory=dict)
    progress: Callable[[Progress], Awaitable[None]] | None = None
    guard: StepGuard | None = None
    check: bool = False  # the step runs the tool's read-only check, not the change
    stream: Callable[[str, str], None] | None = None  # (target, text): output as it arrives

    def output_to(self, target: AssetRef | None) -> Callable[[str], None] | None:
        """Where a tool sends `target`'s output as it arrives (None: nobody follows it)."""
        stream = self.stream
        if stream is None:
            return None
        name = target.name if target is not None else ""
        return lambda text: stream(name, text)

    def check_path(self, path: str) -> None:
        """Before touching `path` as resolved on the target (links followed): NotPermitted if denied."""
        if self.guard is not None:
            self.guard.check_path(path)

    def check_address(self, target: AssetRef, address: str) -> None:
        """Before connecting to `address`, what `target` resolved to: NotPermitted if denied."""
        if self.guard is not None:
            self.guard.check_address(target, address)

    def check_target(self, target: AssetRef) -> None:
        """Before reaching `target`, an inventory asset the step names besides its targets (a copy's
        destination): NotPermitted unless the step's rules allow it there too."""
        if self.guard is not None:
            self.guard.check_target(target)

    def check_destination(self, address: str, what: str) -> None:
        """Before the bot itself connects to `address` (`what`: e.g. a notification channel's host),
        NotPermitted when it is in a restricted range (metadata, link-local) the policy keeps closed."""
        if self.guard is not None:
            self.guard.check_destination(address, what)

    def get(self, kind: type[T]) -> T:
        try:
            return cast(T, self.services[kind])
        except KeyError as err:
            raise LookupError(f"no service registered for {kind.__name__}") from err

    def find(self, kind: type[T]) -> T | None:
        """The registered service, or None when the composition root registered none."""
        return cast(T | None, self.services.get(kind))


ToolFunc = Callable[[ToolContext, AssetRef | None, Any], Awaitable[ToolOutput]]
RunAll = Callable[[ToolContext, tuple[AssetRef, ...], Any], Awaitable[list[TargetResult]]]
Outline = Callable[[dict[str, Any], tuple[AssetRef, ...]], tuple[str, ...]]
UndoRule = Callable[[Mapping[str, Any], ToolOutput], "Call | str"]
"""The inverse of a change on one target, from the step's arguments and that target's output:
the Call that reverses it, or a sentence saying why there is none ("a restart has no inverse")."""
ReadyRule = Callable[[Mapping[type[Any], Any], Any], "str | None"]
"""Why a call (its parsed arguments) cannot run with the services this bot holds, or None."""


@dataclass(frozen=True)
class ToolSpec:
    """One catalog tool: its name, typed arguments, risk and implementation."""

    name: str
    args_model: type[BaseModel]
    risk: Risk
    timeout_s: float
    takes_targets: bool
    description: str
    func: ToolFunc
    phrasing: Phrasing = field(default_factory=Phrasing)
    counterparts: Counterparts = field(default_factory=Counterparts)
    source: str = ""  # the catalog file that defines it; "" for a tool written in Python
    digest: str = ""  # sha256 of that file's version (what an execution records)
    # a tool that runs other tools (a runbook): their names (policy must grant them too), how it
    # takes all its targets at once (batches) instead of once per target, and its plan outline
    calls: tuple[str, ...] = ()
    run_all: RunAll | None = None
    outline: Outline | None = None
    check: ToolFunc | None = None  # read-only probes: what the change would do (check mode)
    undo: UndoRule | None = None  # the inverse of one target's change: a Call, or why there is none
    preview: bool = False  # its check runs before the approval prompt, which shows what it reports
    addresses: bool = False  # also takes targets outside the inventory, written as addresses (probes)
    ready: ReadyRule | None = None  # why a call cannot run with this setup, asked before approval
    diagnoses: tuple[str, ...] = ()  # alert names it diagnoses (read tools only); "*": any alert
    # the systems it has an implementation for: "windows" (WinRM) and "linux" (SSH: any other os);
    # empty for a tool that runs everywhere (a catalog file saying only `windows:` runs only there)
    platforms: frozenset[str] = frozenset()
    destinations: tuple[str, ...] = ()  # arguments naming another inventory asset the change writes on

    def runs_on(self, os: str) -> bool:
        """True when the tool has an implementation for an asset of this os."""
        return not self.platforms or ("windows" if os.lower() == "windows" else "linux") in self.platforms

    @property
    def checks(self) -> bool:
        """True when the tool can run as a check (a change tool declaring read-only probes)."""
        return self.changes and self.check is not None

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def changes(self) -> bool:
        """True when running the tool may change something (derived from risk, never listed)."""
        return self.risk is not Risk.READ

    def parse_args(self, raw: dict[str, Any]) -> BaseModel:
        """Validate raw (model- or grammar-produced) arguments; raise InvalidRequest."""
        try:
            return self.args_model.model_validate(raw)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in err.errors()
            )
            raise InvalidRequest(f"{self.name}: {problems}") from err

    def json_schema(self) -> dict[str, Any]:
        return self.args_model.model_json_schema()


class ToolSet:
    """The tools of one domain, declared with `@toolset.tool(...)`."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.specs: list[ToolSpec] = []

    def tool(
        self,
        name: str,
        args_model: type[BaseModel],
        *,
        risk: Risk,
        timeout_s: float = 30.0,
        takes_targets: bool = True,
        phrasing: Phrasing | None = None,
        counterparts: Counterparts | None = None,
        check: ToolFunc | None = None,
        undo: UndoRule | None = None,
        preview: bool = False,
        addresses: bool = False,
        ready: ReadyRule | None = None,
        diagnoses: tuple[str, ...] = (),
        destinations: tuple[str, ...] = (),
    ) -> Callable[[ToolFunc], ToolFunc]:
        if not name.startswith(self.domain + "."):
            raise ValueError(f"tool {name} does not belong to domain {self.domain}")
        if diagnoses and risk is not Risk.READ:
            raise ValueError(f"tool {name}: only a read tool may diagnose alerts")
        unknown = [d for d in destinations if d not in args_model.model_fields]
        if unknown:
            raise ValueError(
                f"tool {name}: destinations {unknown} are not arguments of {args_model.__name__}"
            )

        def register(func: ToolFunc) -> ToolFunc:
            doc = inspect.cleandoc(func.__doc__ or "").strip()
            words, related = phrasing or Phrasing(), counterparts or Counterparts()
            self.specs.append(
                ToolSpec(
                    name,
                    args_model,
                    risk,
                    timeout_s,
                    takes_targets,
                    doc,
                    func,
                    phrasing=words,
                    counterparts=related,
                    check=check,
                    undo=undo,
                    preview=preview and check is not None,
                    addresses=addresses,
                    ready=ready,
                    diagnoses=diagnoses,
                    destinations=destinations,
                )
            )
            return func

        return register


class ToolRegistry:
    """All tools the app knows, by name: the built-in ones and the catalog's defined ones.

    `define` swaps the whole set of defined tools at once (a catalog reload) and bumps
    `version`; whoever keeps something derived from the tools (the understanding layer's
    words) rebuilds it when `version` changed.
    """

    def __init__(self, toolsets: Iterable[ToolSet] = ()) -> None:
        self._builtin: dict[str, ToolSpec] = {}
        self._tools: dict[str, ToolSpec] = {}
        self.version = 0
        self.refresher: Callable[[bool], object] | None = None  # set by whoever loads the catalog
        for toolset in toolsets:
            self.add(toolset)

    def refresh(self, force: bool = False) -> None:
        """Pick up edited catalog files now (a cheap check when nothing changed); `force`
        reloads them whatever changed."""
        if self.refresher is not None:
            self.refresher(force)

    def add(self, toolset: ToolSet) -> None:
        for spec in toolset.specs:
            if spec.name in self._tools:
                raise ValueError(f"tool {spec.name} declared twice")
            self._builtin[spec.name] = spec
            self._tools[spec.name] = spec
        self.version += 1

    def define(self, specs: Iterable[ToolSpec]) -> None:
        """Replace every defined (catalog) tool with `specs`; built-in names cannot be taken."""
        defined = {spec.name: spec for spec in specs}
        taken = sorted(defined.keys() & self._builtin.keys())
        if taken:
            raise ValueError(f"built-in tools cannot be redefined: {', '.join(taken)}")
        self._tools = {**self._builtin, **defined}
        self.version += 1

    @property
    def builtin(self) -> dict[str, ToolSpec]:
        """The tools written in Python, by name (a catalog file may not take their names)."""
        return dict(self._builtin)

    def get(self, name: str) -> ToolSpec:
        try:
            return self._tools[name]
        except KeyError as err:
            raise InvalidRequest(f"unknown tool {name!r}") from err

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(sorted(self._tools.values(), key=lambda s: s.name))

    def names(self) -> list[str]:
        return sorted(self._tools)

    def diagnosis_for(self, alert: str) -> ToolSpec | None:
        """The read-only tool that diagnoses the alert named `alert`: one declaring that name
        before one declaring any alert ("*"); a catalog file's (the team's own) before a built-in
        tool; then by name. None when no tool declares it."""
        ranked = [
            (0 if alert in spec.diagnoses else 1, spec.source == "", spec.name, spec)
            for spec in self._tools.values()
            if spec.risk is Risk.READ and (alert in spec.diagnoses or "*" in spec.diagnoses)
        ]
        return min(ranked, key=lambda r: r[:3])[3] if ranked else None
