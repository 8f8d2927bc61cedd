"""Check mode, undo and the matching read of catalog-defined command tools: `check:`, `undo:`, `read:`.

    check: {args: {dry_run: true}, summary: ...}      the tool's own command, some arguments set
    check: {linux: {script: ...}, output: ..., summary: ...}   a read-only command of its own
    undo:  {tool: app.cache_warm, args: {app: "{app}"}}        the call that reverses it
    undo:  {none: "deleted logs cannot be restored"}           why nothing does
    read:  {tool: automation.service_status, args: {service: "{service}"}}   what answers a question

`check_func` and `undo_rule` give the `ToolSpec.check` / `ToolSpec.undo` the kernel's check mode
and Undo button use, as for a tool written in Python; `probe_problems` and `undo_problems` are
what `opsconductor tools validate` reports about them (file:line, with the loader's other checks);
`counterparts` gives `ToolSpec.counterparts` (the read the understanding plans for talk about the
change) and `read_problems` checks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from domains.packs.command import BUILTINS, command_tool
from domains.packs.schema import HOLE, ToolDefinition
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.registry import Call, Counterparts, ToolContext, ToolFunc, ToolSpec, UndoRule

Loc = tuple[str | int, ...]


def probe_definition(definition: ToolDefinition) -> ToolDefinition | None:
    """The definition check mode runs: the tool's, with the probe's command, output and summary."""
    probe = definition.check
    if probe is None:
        return None
    update: dict[str, Any] = {"check": None, "undo": None, "summary": probe.summary or definition.summary}
    if probe.output is not None:
        update["output"] = probe.output
    if not probe.args:
        update.update({"linux": probe.linux, "windows": probe.windows})
    return definition.model_copy(update=update)


def check_func(definition: ToolDefinition) -> ToolFunc | None:
    """The read-only probe as a tool function (`ToolSpec.check`); None without `check:`."""
    probe = probe_definition(definition)
    if probe is None or definition.check is None:
        return None
    inner = command_tool(probe)
    overrides = dict(definition.check.args)

    async def check(ctx: ToolContext, target: AssetRef | None, args: BaseModel) -> ToolOutput:
        values = type(args).model_validate({**args.model_dump(), **overrides}) if overrides else args
        out = await inner(ctx, target, values)
        return out.model_copy(
            update={"summary": f"check: {out.summary}", "data": {**out.data, "check": True}}
        )

    check.__doc__ = f"Check of {definition.name}: what it would do, changing nothing."
    return check


def undo_rule(definition: ToolDefinition) -> UndoRule | None:
    """The declared inverse (`ToolSpec.undo`): holes filled from the arguments, then the facts."""
    undo = definition.undo
    if undo is None:
        return None
    if undo.none:
        why = undo.none
        return lambda args, output: why
    call = Call(undo.tool, dict(undo.args))

    def rule(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
        return Call(call.tool, call.render({**output.data, **args}))

    return rule


def probe_problems(definition: ToolDefinition, model: type[BaseModel]) -> Iterator[tuple[Loc, str]]:
    """`check.args` naming parameters and fitting their types."""
    probe = definition.check
    if probe is None:
        return
    for name, value in probe.args.items():
        if name not in definition.params:
            yield ("check", "args", name), f"check.args.{name}: not a parameter of {definition.name}"
            continue
        samples = {n: None for n, f in model.model_fields.items() if f.is_required()}
        try:
            model.model_validate({**samples, name: value})
        except ValidationError as err:
            bad = [e for e in err.errors() if e["loc"][:1] == (name,)]
            if bad:
                yield ("check", "args", name), f"check.args.{name}: {bad[0]['msg']}"


def undo_problems(
    defined: Iterable[tuple[Path, ToolDefinition]], tools: Mapping[str, ToolSpec]
) -> Iterator[tuple[Path, Loc, str]]:
    """`undo.tool` naming a known tool, its args that tool's parameters (all it requires), and
    holes naming the tool's parameters or output facts."""
    for path, definition in defined:
        undo = definition.undo
        if undo is None or not undo.tool:
            continue
        if undo.tool not in tools:
            yield path, ("undo", "tool"), f"undo.tool: there is no tool named {undo.tool}"
            continue
        known = set(definition.params) | set(definition.output.groups()) | set(BUILTINS)
        if definition.output.format == "json":
            known = set()  # any fact may be in the output
        called = ("undo", undo.tool, undo.args, tools[undo.tool])
        for loc, message in _call_problems(*called, known, "a parameter or fact"):
            yield path, loc, message


def _call_problems(
    key: str, tool: str, args: Mapping[str, Any], called: ToolSpec, known: set[str], holes: str
) -> Iterator[tuple[Loc, str]]:
    """A declared call's args: that tool's parameters, every one it requires, and holes naming
    `known` names (empty: any name; `holes` says what they may name)."""
    fields = called.args_model.model_fields
    for name in args:
        if name not in fields:
            yield (key, "args", name), f"{key}.args.{name}: {tool} has no parameter {name}"
    for name in (n for n, f in fields.items() if f.is_required() and n not in args):
        yield (key, "args"), f"{key}.args: {tool} needs {name}"
    for name, value in args.items():
        for hole in HOLE.findall(value) if isinstance(value, str) else ():
            if known and hole not in known:
                yield (key, "args", name), f"{key}.args.{name}: {{{hole}}} is not {holes}"


def counterparts(definition: ToolDefinition) -> Counterparts:
    """The declared matching read (`ToolSpec.counterparts`)."""
    read = definition.read
    return Counterparts(read=Call(read.tool, dict(read.args)) if read is not None else None)


def read_problems(
    defined: Iterable[tuple[Path, ToolDefinition]], tools: Mapping[str, ToolSpec]
) -> Iterator[tuple[Path, Loc, str]]:
    """`read.tool` naming a known read, its args that tool's parameters (all it requires), and
    holes naming the change's parameters."""
    for path, definition in defined:
        read = definition.read
        if read is None:
            continue
        called = tools.get(read.tool)
        if called is None or called.changes:
            yield path, ("read", "tool"), f"read.tool: there is no read tool named {read.tool}"
            continue
        for loc, message in _call_problems(
            "read", read.tool, read.args, called, set(definition.params), "a parameter"
        ):
            yield path, loc, message
