"""How a tool reaches a host: the right port for its OS, and the tool's tunables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from domains.automation import linux
from domains.automation.ports import AutomationOptions, CommandResult, RemoteShell, WindowsRemote
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest, ToolFailed
from pipeline.registry import ToolContext

DEFAULT_OPTIONS = AutomationOptions()


def is_windows(target: AssetRef) -> bool:
    return target.os.lower() == "windows"


def options(ctx: ToolContext) -> AutomationOptions:
    found = ctx.services.get(AutomationOptions)
    return found if isinstance(found, AutomationOptions) else DEFAULT_OPTIONS


def require_target(target: AssetRef | None) -> AssetRef:
    if target is None:
        raise InvalidRequest("this tool needs a target host")
    return target


@dataclass(frozen=True, slots=True)
class Host:
    """One target and the port that reaches it: SSH for Linux/Unix, WinRM for Windows."""

    target: AssetRef
    ctx: ToolContext

    @property
    def windows(self) -> bool:
        return is_windows(self.target)

    async def run(
        self, command: str, *, timeout_s: float, max_output: int | None = None, stdin: str | None = None
    ) -> CommandResult:
        """A shell command line on Linux, a PowerShell script on Windows."""
        if self.windows:
            if stdin is not None:
                raise ToolFailed("feeding input to a Windows command is not supported")
            return await self._windows_remote().powershell(
                self.target, command, timeout_s=timeout_s, max_output=max_output
            )
        return await self._shell().run(
            self.target,
            command,
            timeout_s=timeout_s,
            max_output=max_output,
            stdin=stdin,
            on_output=self.ctx.output_to(self.target),  # followed live in chat and the console
        )

    async def real_path(self, path: str, *, timeout_s: float) -> str:
        """`path` as the target resolves it (links, `..`); the path itself when it cannot be.
        A missing last component is fine (a file about to be written)."""
        result = await self.run(linux.real_path_command(path), timeout_s=timeout_s, max_output=8192)
        lines = result.stdout.splitlines()
        return lines[0] if result.ok and lines and lines[0].startswith("/") else path

    async def forget(self) -> None:
        if not self.windows:
            await self._shell().forget(self.target)

    def _shell(self) -> RemoteShell:
        return cast(RemoteShell, self._port(RemoteShell, "SSH"))

    def _windows_remote(self) -> WindowsRemote:
        return cast(WindowsRemote, self._port(WindowsRemote, "WinRM"))

    def _port(self, kind: object, name: str) -> object:
        port = self.ctx.services.get(kind)  # type: ignore[call-overload]
        if port is None:
            raise ToolFailed(f"{name} access is not configured; cannot reach {self.target.name}")
        return port


SUDO_HINT = (
    "{said}: the login may not run this as root without a password; add the sudoers rule for "
    'this tool (docs/operations.md, "Connect your machines")'
)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def failure_text(result: CommandResult) -> str:
    """The most telling line of a failed command, for a one-line error."""
    if linux.sudo_refused(result.stderr):
        return SUDO_HINT.format(said=_last_line(result.stderr))
    for text in (result.stderr, result.stdout):
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if lines:
            return lines[-1] if len(lines[-1]) > 3 else lines[0]
    if result.exit_signal:
        return f"killed by signal {result.exit_signal}"
    return f"exit code {result.exit_code}"
