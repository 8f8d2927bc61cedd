"""Automation on Linux (SSH) and Windows (WinRM) hosts."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.registry import ToolContext, ToolSet

automation = ToolSet("automation")

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


class ReadFileArgs(_Args):
    path: str = Field(..., min_length=1, max_length=1024)
    tail_lines: int = Field(100, ge=1, le=5000)

    @field_validator("path")
    @classmethod
    def absolute(cls, value: str) -> str:
        if not (value.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", value)):
            raise ValueError("path must be absolute")
        if "\x00" in value or "\n" in value:
            raise ValueError("path contains control characters")
        return value


class RunCommandArgs(_Args):
    command: str = Field(..., min_length=1, max_length=4000)
    timeout_s: float = Field(60, ge=1, le=3600)


class RunScriptArgs(_Args):
    language: Literal["bash", "python", "powershell"]
    script: str = Field(..., min_length=1, max_length=100_000)
    timeout_s: float = Field(300, ge=1, le=3600)


class RebootArgs(_Args):
    wait_s: float = Field(300, ge=0, le=3600, description="how long to wait for the host to return")


def _pending(what: str) -> ToolFailed:
    return ToolFailed(f"{what} is not implemented yet")


@automation.tool("automation.system_info", SystemInfoArgs, risk=Risk.READ, timeout_s=30)
async def system_info(ctx: ToolContext, target: AssetRef | None, args: SystemInfoArgs) -> ToolOutput:
    """Report facts about each host: uptime, disk usage, memory, cpu load and OS version."""
    raise _pending("system_info")


@automation.tool("automation.service_status", ServiceArgs, risk=Risk.READ, timeout_s=30)
async def service_status(ctx: ToolContext, target: AssetRef | None, args: ServiceArgs) -> ToolOutput:
    """Show whether a service is running (systemd on Linux, the service manager on Windows)."""
    raise _pending("service_status")


@automation.tool("automation.service_control", ServiceControlArgs, risk=Risk.WRITE, timeout_s=120)
async def service_control(ctx: ToolContext, target: AssetRef | None, args: ServiceControlArgs) -> ToolOutput:
    """Start, stop or restart a service and report its state afterwards."""
    raise _pending("service_control")


@automation.tool("automation.process_list", ProcessListArgs, risk=Risk.READ, timeout_s=30)
async def process_list(ctx: ToolContext, target: AssetRef | None, args: ProcessListArgs) -> ToolOutput:
    """List running processes, optionally only those matching a pattern."""
    raise _pending("process_list")


@automation.tool("automation.read_file", ReadFileArgs, risk=Risk.READ, timeout_s=30)
async def read_file(ctx: ToolContext, target: AssetRef | None, args: ReadFileArgs) -> ToolOutput:
    """Show the last lines of a file (size-capped)."""
    raise _pending("read_file")


@automation.tool("automation.run_command", RunCommandArgs, risk=Risk.CRITICAL, timeout_s=3600)
async def run_command(ctx: ToolContext, target: AssetRef | None, args: RunCommandArgs) -> ToolOutput:
    """Run a shell command as written (critical: needs a second person's approval)."""
    raise _pending("run_command")


@automation.tool("automation.run_script", RunScriptArgs, risk=Risk.CRITICAL, timeout_s=3600)
async def run_script(ctx: ToolContext, target: AssetRef | None, args: RunScriptArgs) -> ToolOutput:
    """Run a bash, python or powershell script (critical: needs a second person's approval)."""
    raise _pending("run_script")


@automation.tool("automation.reboot", RebootArgs, risk=Risk.CRITICAL, timeout_s=3600)
async def reboot(ctx: ToolContext, target: AssetRef | None, args: RebootArgs) -> ToolOutput:
    """Reboot each host and report when it is back (or that it did not return in time)."""
    raise _pending("reboot")
