"""Running a command tool: argv or script on Linux (SSH), PowerShell on Windows (WinRM).

No value is ever re-split by a shell. On Linux an argv list is sent as ``shlex.join(argv)``:
each element, `{param}` values substituted inside it, arrives as exactly one argument. A
script runs under its shell (``/bin/sh -s``) fed on stdin, with the parameters as
environment variables assigned by quoted words. On Windows the PowerShell body becomes a
script block with a typed ``param()`` block, called with every value a verbatim literal.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from domains.automation.ports import CommandResult
from domains.automation.remote import Host, failure_text, require_target
from domains.automation.windows import ps_quote
from domains.packs.schema import HOLE, ParamDef, ToolDefinition
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.registry import ToolContext, ToolFunc

BUILTINS = ("target", "exit_code", "output")
_PS_TYPE = {"integer": "[int]", "boolean": "[bool]", "duration": "[double]"}


def text_of(value: Any) -> str:
    """A parameter value as one argument's text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_argv(argv: tuple[str, ...], values: Mapping[str, Any]) -> list[str]:
    """Each element with its `{param}` holes filled; an element naming an unset value is dropped."""
    rendered: list[str] = []
    for element in argv:
        names = HOLE.findall(element)
        if any(values.get(n) is None for n in names):
            continue
        rendered.append(HOLE.sub(lambda m: text_of(values[m.group(1)]), element))
    return rendered


def linux_command(definition: ToolDefinition, values: Mapping[str, Any]) -> tuple[str, str | None]:
    """(command line, stdin) for a Linux target."""
    linux = definition.linux
    if linux is None:
        raise ToolFailed(f"{definition.name} declares nothing to run on Linux")
    if linux.argv:
        return shlex.join(render_argv(linux.argv, values)), None
    env = " ".join(
        f"{name.upper()}={shlex.quote(text_of(value))}" for name, value in values.items() if value is not None
    )
    return f"{env} exec {shlex.quote(linux.shell)} -s".strip(), linux.script


def powershell(definition: ToolDefinition, values: Mapping[str, Any]) -> str:
    """The PowerShell body as a typed script block, called with literal arguments."""
    if definition.windows is None:
        raise ToolFailed(f"{definition.name} declares nothing to run on Windows")
    declared = ", ".join(_ps_param(name, param) for name, param in definition.params.items())
    call = " ".join(_ps_arg(name, value) for name, value in values.items() if value is not None)
    return f"& {{\nparam({declared})\n{definition.windows.powershell}\n}} {call}".rstrip()


def _ps_param(name: str, param: ParamDef) -> str:
    kind = _PS_TYPE.get(param.type, "[string]")
    valid = f"[ValidateSet({', '.join(ps_quote(c) for c in param.choices)})]" if param.choices else ""
    return f"{valid}{kind}${name}"


def _ps_arg(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"-{name} ${str(value).lower()}"
    if isinstance(value, int | float):
        return f"-{name} {text_of(value)}"
    return f"-{name} {ps_quote(str(value))}"


def facts(definition: ToolDefinition, stdout: str) -> dict[str, Any]:
    """The facts the output declares: {'output': text}, the JSON, or the regex's named groups."""
    out = definition.output
    if out.format == "json":
        try:
            parsed = json.loads(stdout) if stdout.strip() else {}
        except json.JSONDecodeError as err:
            raise ToolFailed(f"output is not JSON (line {err.lineno}: {err.msg})") from None
        return parsed if isinstance(parsed, dict) else {"value": parsed}
    if out.format == "regex" and out.regex is not None:
        match = re.search(out.regex, stdout, re.MULTILINE)
        if match is None:
            raise ToolFailed("output did not match the tool's regex")
        return {k: v for k, v in match.groupdict().items()}
    return {"output": stdout.strip()}


def summarize(template: str, values: Mapping[str, Any]) -> str:
    """The summary template with `{name}` holes filled from facts, arguments and builtins."""
    return HOLE.sub(lambda m: text_of(values.get(m.group(1), "")), template)


def command_tool(definition: ToolDefinition) -> ToolFunc:
    """The function the executor calls once per target."""

    async def run(ctx: ToolContext, target: AssetRef | None, args: BaseModel) -> ToolOutput:
        host = Host(require_target(target), ctx)
        values = args.model_dump()
        for param in (n for n, p in definition.params.items() if p.type == "path" and values.get(n)):
            ctx.check_path(values[param])
        if host.windows:
            result = await host.run(powershell(definition, values), timeout_s=definition.timeout)
            ok_codes = definition.windows.ok_codes if definition.windows else (0,)
        else:
            command, stdin = linux_command(definition, values)
            result = await host.run(command, timeout_s=definition.timeout, stdin=stdin)
            ok_codes = definition.linux.ok_codes if definition.linux else (0,)
        return _output(definition, host.target, values, result, ok_codes)

    run.__doc__ = definition.description
    return run


def _output(
    definition: ToolDefinition,
    target: AssetRef,
    values: Mapping[str, Any],
    result: CommandResult,
    ok_codes: tuple[int, ...],
) -> ToolOutput:
    builtins = {"target": target.name, "exit_code": result.exit_code, "output": result.stdout.strip()}
    if result.exit_code not in ok_codes:
        return ToolOutput(
            ok=False,
            summary=f"{definition.name} failed: {failure_text(result)}",
            stdout=result.stdout,
            stderr=result.stderr,
            exit_code=result.exit_code,
        )
    data = facts(definition, result.stdout)
    summary = summarize(definition.summary, {**values, **builtins, **data}) if definition.summary else ""
    return ToolOutput(
        summary=summary or _first_line(result.stdout) or f"{definition.name} done",
        data=data,
        stdout=result.stdout,
        stderr=result.stderr,
        exit_code=result.exit_code,
    )


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]
