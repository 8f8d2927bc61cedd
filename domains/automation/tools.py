"""Automation on Linux (SSH) and Windows (WinRM) hosts.

Each tool runs once per target (the executor fans out) and picks SSH or WinRM by the
target's os. Commands are built from the typed arguments with shlex.quote (Linux) or
PowerShell literals (Windows); only `run_command` and `run_script` bodies pass as written.
Failures raise the pipeline's ToolError subclasses; a command that ran but did not do
what was asked returns ``ToolOutput(ok=False)`` with its output.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domains.automation import checks, linux, windows
from domains.automation import files as _files  # noqa: F401  the file tools declare on `automation` too
from domains.automation import phrasing as words
from domains.automation import reboot as rebooting
from domains.automation.facts import summarize
from domains.automation.fileargs import FileArgs
from domains.automation.ports import CommandResult
from domains.automation.remote import Host, failure_text, options, require_target
from domains.automation.toolset import automation
from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.messages import counted
from pipeline.registry import ToolContext

__all__ = ["automation"]

SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9@._:+-]{0,127}$")
Fact = Literal["uptime", "disk", "memory", "cpu", "os"]
ALL_FACTS: tuple[Fact, ...] = ("uptime", "disk", "memory", "cpu", "os")


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SystemInfoArgs(_Args):
    facts: list[Fact] = Field(default_factory=lambda: list(ALL_FACTS), min_length=1, max_length=5)

    @field_validator("facts")
    @classmethod
    def unique(cls, facts: list[Fact]) -> list[Fact]:
        return list(dict.fromkeys(facts))


class ServiceArgs(_Args):
    service: str = Field(..., description="service (unit) name, e.g. nginx or W3SVC")

    @field_validator("service")
    @classmethod
    def valid_name(cls, value: str) -> str:
        if not SERVICE_NAME.match(value):
            raise ValueError(f"not a valid service name: {value!r}")
        return value


class ServiceControlArgs(ServiceArgs):
    action: Literal["start", "stop", "restart"]


class ProcessListArgs(_Args):
    match: str | None = Field(None, max_length=128, description="only processes whose command matches")


class ReadFileArgs(FileArgs):
    tail_lines: int = Field(100, ge=1, le=5000)


class RunCommandArgs(_Args):
    command: str = Field(..., min_length=1, max_length=4000)
    timeout_s: float = Field(60, ge=1, le=3600)


class RunScriptArgs(_Args):
    language: Literal["bash", "python", "powershell"]
    script: str = Field(..., min_length=1, max_length=100_000)
    timeout_s: float = Field(300, ge=1, le=3600)


class RebootArgs(_Args):
    wait_s: float = Field(300, ge=0, le=3600, description="how long to wait for the host to return")


READ_TIMEOUT_S = 25.0  # inside the read tools' declared 30 s
CONTROL_TIMEOUT_S = 110.0  # inside service_control's declared 120 s


def _host(ctx: ToolContext, target: AssetRef | None) -> Host:
    return Host(require_target(target), ctx)


def _require_ok(result: CommandResult, what: str) -> CommandResult:
    if not result.ok:
        raise ToolFailed(f"{what} failed: {failure_text(result)}")
    return result


@automation.tool(
    "automation.system_info",
    SystemInfoArgs,
    risk=Risk.READ,
    timeout_s=30,
    phrasing=words.SYSTEM_INFO,
    diagnoses=("*",),  # any alert, when the catalog defines no diagnosis of its own
)
async def system_info(ctx: ToolContext, target: AssetRef | None, args: SystemInfoArgs) -> ToolOutput:
    """Report facts about each host: uptime, disk usage, memory, cpu load and OS version."""
    host = _host(ctx, target)
    if host.windows:
        result = _require_ok(await host.run(windows.SYSTEM_INFO, timeout_s=READ_TIMEOUT_S), "system info")
        data = windows.parse_system_info(result.stdout, list(args.facts))
    else:
        result = await host.run(linux.system_info_command(args.facts), timeout_s=READ_TIMEOUT_S)
        data = {k: v for k, v in linux.parse_system_info(result.stdout).items() if k in args.facts}
    if not data:
        raise ToolFailed(f"no facts could be read: {failure_text(result)}")
    missing = [f for f in args.facts if f not in data]
    summary = summarize(data) + (f" (not available: {', '.join(missing)})" if missing else "")
    return ToolOutput(summary=summary, data=data)


@automation.tool(
    "automation.service_status", ServiceArgs, risk=Risk.READ, timeout_s=30, phrasing=words.SERVICE_STATUS
)
async def service_status(ctx: ToolContext, target: AssetRef | None, args: ServiceArgs) -> ToolOutput:
    """Show whether a service is running (systemd on Linux, the service manager on Windows)."""
    host = _host(ctx, target)
    if host.windows:
        result = await host.run(windows.service_status_script(args.service), timeout_s=READ_TIMEOUT_S)
        state = _windows_service(result, args.service)
    else:
        result = await host.run(linux.service_status_command(args.service), timeout_s=READ_TIMEOUT_S)
        state = _linux_service(result, args.service, linux.parse_show(result.stdout.splitlines()))
    return ToolOutput(summary=_describe(state), data=state)


@automation.tool(
    "automation.service_control",
    ServiceControlArgs,
    risk=Risk.WRITE,
    timeout_s=120,
    phrasing=words.SERVICE_CONTROL,
    counterparts=words.SERVICE_CONTROL_READ,
    check=checks.service_control_check,
    undo=checks.service_control_undo,
)
async def service_control(ctx: ToolContext, target: AssetRef | None, args: ServiceControlArgs) -> ToolOutput:
    """Start, stop or restart a service and report its state afterwards."""
    host = _host(ctx, target)
    if host.windows:
        script = windows.service_control_script(args.service, args.action)
        result = await host.run(script, timeout_s=CONTROL_TIMEOUT_S)
        if not result.ok:
            _windows_missing(result, args.service)
            return _control_failed(args, result, result.exit_code)
        state = windows.service_state(result.stdout)
        rc: int | None = 0
    else:
        command = linux.service_control_command(args.service, args.action)
        result = await host.run(command, timeout_s=CONTROL_TIMEOUT_S)
        parts = linux.sections(result.stdout)
        state = _linux_service(result, args.service, linux.parse_show(parts.get("show", [])))
        rc_lines = parts.get("rc") or ["-1"]
        rc = int(rc_lines[0]) if rc_lines[0].lstrip("-").isdigit() else None
        if rc != 0:
            return _control_failed(args, result, rc, state)
    wanted = args.action != "stop"
    ok = state["running"] == wanted
    summary = f"{args.action} {args.service}: now {_describe(state)}"
    return ToolOutput(summary=summary, data={**state, "action": args.action}, exit_code=rc, ok=ok)


def _control_failed(
    args: ServiceControlArgs, result: CommandResult, rc: int | None, state: dict[str, object] | None = None
) -> ToolOutput:
    now = f"; now {_describe(state)}" if state else ""
    return ToolOutput(
        ok=False,
        summary=f"{args.action} {args.service} failed: {failure_text(result)}{now}",
        data={**(state or {}), "action": args.action},
        stderr=result.stderr,
        exit_code=rc,
    )


def _linux_service(result: CommandResult, service: str, props: dict[str, str]) -> dict[str, object]:
    missing = linux.no_systemd(result.stdout, result.stderr)
    if missing is not None:
        reason, pids = missing
        seen = (
            f"a process named {service} is running (pid {', '.join(map(str, pids))})"
            if pids
            else (f"no process named {service} is running")
        )
        raise ToolFailed(f"this host has no systemd ({reason}), so services cannot be managed here; {seen}")
    if not props:
        raise ToolFailed(f"systemctl did not answer: {failure_text(result)}")
    if props.get("LoadState") == "not-found":
        raise ToolFailed(f"there is no service named {service} on this host")
    return linux.service_state(props)


def _windows_missing(result: CommandResult, service: str) -> None:
    if "Cannot find any service" in result.stderr or "NoServiceFoundForGivenName" in result.stderr:
        raise ToolFailed(f"there is no service named {service} on this host")


def _windows_service(result: CommandResult, service: str) -> dict[str, object]:
    if not result.ok:
        _windows_missing(result, service)
        raise ToolFailed(f"Get-Service failed: {failure_text(result)}")
    return windows.service_state(result.stdout)


def _describe(state: dict[str, object]) -> str:
    sub = f" ({state['sub']})" if state.get("sub") else ""
    enabled = f", {state['enabled']}" if state.get("enabled") else ""
    return f"{state.get('unit') or ''} {state.get('active')}{sub}{enabled}".strip()


@automation.tool(
    "automation.process_list", ProcessListArgs, risk=Risk.READ, timeout_s=30, phrasing=words.PROCESS_LIST
)
async def process_list(ctx: ToolContext, target: AssetRef | None, args: ProcessListArgs) -> ToolOutput:
    """List running processes, optionally only those matching a pattern."""
    host = _host(ctx, target)
    if host.windows:
        result = _require_ok(await host.run(windows.PROCESS_LIST, timeout_s=READ_TIMEOUT_S), "Get-Process")
        processes = windows.parse_processes(result.stdout)
    else:
        result = _require_ok(await host.run(linux.PROCESS_COMMAND, timeout_s=READ_TIMEOUT_S), "ps")
        processes = linux.parse_processes(result.stdout)
    total = len(processes)
    if args.match:  # filtered here: the pattern never reaches a shell
        needle = args.match.lower()
        processes = [p for p in processes if needle in f"{p['command']} {p.get('user', '')}".lower()]
    limit = options(ctx).process_limit
    summary = (
        f"{len(processes)} of {counted(total, 'process')} match {args.match!r}"
        if args.match
        else counted(total, "process")
    )
    data = {"total": total, "matched": len(processes), "processes": processes[:limit]}
    return ToolOutput(summary=summary, data=data)


@automation.tool("automation.read_file", ReadFileArgs, risk=Risk.READ, timeout_s=30, phrasing=words.READ_FILE)
async def read_file(ctx: ToolContext, target: AssetRef | None, args: ReadFileArgs) -> ToolOutput:
    """Show the last lines of a file (size-capped)."""
    host = _host(ctx, target)
    cap = options(ctx).read_file_max_bytes
    if host.windows:
        script = windows.read_file_script(args.path, args.tail_lines)
        result = await host.run(script, timeout_s=READ_TIMEOUT_S, max_output=cap)
        text, truncated = result.stdout, result.truncated
    else:
        real = await host.real_path(args.path, timeout_s=READ_TIMEOUT_S)
        ctx.check_path(real)  # a link to /etc/shadow is /etc/shadow
        command = linux.read_file_command(real, args.tail_lines, cap)
        result = await host.run(command, timeout_s=READ_TIMEOUT_S, max_output=cap + 4096)
        text, truncated = _keep_last(result.stdout, cap)
    if not result.ok:
        raise ToolFailed(f"cannot read {args.path}: {failure_text(result)}")
    lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    summary = f"last {counted(lines, 'line')} of {args.path}" + (
        f" (cut to the last {cap} bytes)" if truncated else ""
    )
    data = {"path": args.path, "lines": lines, "truncated": truncated}
    return ToolOutput(summary=summary, data=data, stdout=text, exit_code=result.exit_code)


def _keep_last(text: str, cap: int) -> tuple[str, bool]:
    raw = text.encode()
    if len(raw) <= cap:
        return text, False
    kept = raw[-cap:].decode(errors="replace")
    kept = kept.split("\n", 1)[1] if "\n" in kept else kept  # drop the partial first line
    return f"[output truncated: showing the last {cap} bytes]\n{kept}", True


def _command_output(result: CommandResult) -> ToolOutput:
    ended = f"signal {result.exit_signal}" if result.exit_signal else f"exit {result.exit_code}"
    first = next((line for line in result.stdout.splitlines() if line.strip()), "")
    summary = (
        ended + (f": {first[:120]}" if first else "") + (" (output truncated)" if result.truncated else "")
    )
    return ToolOutput(
        summary=summary,
        data={"truncated": result.truncated, "duration_ms": result.duration_ms},
        stdout=result.stdout,
        stderr=result.stderr,
        exit_code=result.exit_code,
        ok=result.ok,
    )


@automation.tool(
    "automation.run_command", RunCommandArgs, risk=Risk.CRITICAL, timeout_s=3600, phrasing=words.RUN_COMMAND
)
async def run_command(ctx: ToolContext, target: AssetRef | None, args: RunCommandArgs) -> ToolOutput:
    """Run a shell command as written (critical: needs a second person's approval)."""
    host = _host(ctx, target)
    return _command_output(await host.run(args.command, timeout_s=args.timeout_s))


@automation.tool(
    "automation.run_script", RunScriptArgs, risk=Risk.CRITICAL, timeout_s=3600, phrasing=words.RUN_SCRIPT
)
async def run_script(ctx: ToolContext, target: AssetRef | None, args: RunScriptArgs) -> ToolOutput:
    """Run a bash, python or powershell script (critical: needs a second person's approval)."""
    host = _host(ctx, target)
    if host.windows:
        if args.language != "powershell":
            raise ToolFailed(f"{args.language} scripts cannot run on a Windows host; use powershell")
        return _command_output(await host.run(args.script, timeout_s=args.timeout_s))
    command = linux.script_command(args.language)
    return _command_output(await host.run(command, timeout_s=args.timeout_s, stdin=args.script))


@automation.tool(
    "automation.reboot",
    RebootArgs,
    risk=Risk.CRITICAL,
    timeout_s=3600,
    phrasing=words.REBOOT,
    counterparts=words.REBOOT_READ,
    check=checks.reboot_check,
    undo=checks.reboot_undo,
)
async def reboot(ctx: ToolContext, target: AssetRef | None, args: RebootArgs) -> ToolOutput:
    """Reboot each host and report when it is back (or that it did not return in time)."""
    return await rebooting.reboot(_host(ctx, target), options(ctx), args.wait_s)
