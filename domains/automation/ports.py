"""Ports of the automation domain: what its tools need from the outside world.

`RemoteShell` runs a POSIX shell command on a Linux/Unix host (SSH), `RemoteFiles` reads and
writes its files (SFTP), `WindowsRemote` runs PowerShell on a Windows host (WinRM);
`CredentialSource` hands them the secret to log in with; `FetchedFiles` keeps fetched files
for the chat adapters to upload. The tools build every command from typed arguments with proper
quoting; only the bodies of `automation.run_command` / `automation.run_script` pass
through as written.

Errors (from `pipeline.errors`), for every method that talks to a host:

- `TargetUnreachable`: no connection (refused, no route, DNS, host key or login
  rejected) or the connection was lost while the command ran;
- `ToolTimeout`: the host accepted TCP but did not finish the handshake in time, or
  the command exceeded its own timeout;
- `ToolFailed`: a protocol error the host reported.

A command that runs and exits non-zero is *not* an error: it is a `CommandResult`
with that exit code, and the tool decides what it means.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from domains.automation.linux import AS_ROOT
from pipeline.contracts import AssetRef

TRUNCATION_MARKER = "[output truncated after {n} bytes]"


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The outcome of one command on one host.

    `exit_code` is None when the command ended without one (killed by a signal,
    named in `exit_signal`). `truncated` is True when stdout or stderr exceeded the
    cap; the truncated stream then ends with the `TRUNCATION_MARKER` line.
    """

    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool = False
    duration_ms: float = 0.0
    exit_signal: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class RemoteShell(Protocol):
    """A POSIX shell on a remote host (SSH), with pooled connections."""

    async def run(
        self,
        target: AssetRef,
        command: str,
        *,
        timeout_s: float | None = None,
        max_output: int | None = None,
        stdin: str | None = None,
        on_output: Callable[[str], None] | None = None,
    ) -> CommandResult:
        """Run `command` (a shell command line) on `target`; feed `stdin` if given.

        `timeout_s` bounds the command (the adapter's default when None), the connect
        has its own timeout; `max_output` caps each of stdout and stderr in bytes.
        `on_output` receives stdout and stderr text as it arrives (before the cap), in order.
        """
        ...

    async def forget(self, target: AssetRef) -> None:
        """Drop pooled connections to `target` (after a reboot, a host key change)."""
        ...

    async def close(self) -> None:
        """Close every pooled connection."""
        ...


@dataclass(frozen=True, slots=True)
class FileStat:
    """What the file tools need to know of a remote file (links followed)."""

    size: int
    mode: int  # permission bits (0o7777)
    uid: int
    gid: int
    regular: bool  # a regular file (not a directory, device, socket ...)


class FileSession(Protocol):
    """File operations on one host (SFTP), open for one tool call. Paths are absolute.

    Every method raises `ToolFailed` naming the path and the host's reason (no such file,
    permission denied ...), `TargetUnreachable` when the connection is lost.
    """

    async def stat(self, path: str) -> FileStat | None:
        """The file at `path` (links followed), or None when nothing is there."""
        ...

    async def read(self, path: str, limit: int) -> bytes:
        """The first `limit` bytes of the file (all of it when it is shorter)."""
        ...

    async def create(self, path: str, data: bytes, mode: int) -> None:
        """A new file with `data`, created with permission bits `mode`; fails if `path` exists."""
        ...

    async def set_owner(self, path: str, uid: int, gid: int) -> None: ...

    async def set_mode(self, path: str, mode: int) -> None: ...

    async def link(self, existing: str, new: str) -> bool:
        """A hard link `new` to `existing`; False when the host or its file system refuses one."""
        ...

    async def rename(self, old: str, new: str) -> None:
        """Rename `old` to `new`, atomically replacing `new` if it exists (POSIX rename)."""
        ...

    async def remove(self, path: str) -> None: ...


class RemoteFiles(Protocol):
    """Files on a Linux/Unix host (SFTP over the pooled SSH connections)."""

    def session(self, target: AssetRef) -> AbstractAsyncContextManager[FileSession]:
        """A file session on `target`; connect errors as for `RemoteShell.run`."""
        ...


class FetchedFiles(Protocol):
    """Where the bot keeps the files it fetched, so that chat adapters can upload them."""

    async def keep(self, execution_id: str, target: str, path: str, data: bytes) -> str:
        """Store `data` (fetched from `path` on `target`); return what the tool attaches
        (`ToolOutput.files`): a reference any process can open (db.files), or a local path."""
        ...


class FileTemplates(Protocol):
    """Named file templates (Jinja2 text) that write_file renders per host."""

    async def get(self, name: str) -> str | None:
        """The template's source, or None when there is none by that name."""
        ...


class WindowsRemote(Protocol):
    """PowerShell on a remote Windows host (WinRM)."""

    async def powershell(
        self,
        target: AssetRef,
        script: str,
        *,
        timeout_s: float | None = None,
        max_output: int | None = None,
    ) -> CommandResult:
        """Run a PowerShell script on `target`; stderr holds the error records as text."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class HostCredential:
    """How to log in to one host. Empty fields fall back to the adapter's defaults.

    `private_key` is the text of an OpenSSH/PEM private key (SSH only); `password`
    serves SSH password auth and WinRM.
    """

    username: str | None = None
    password: SecretStr | None = None
    private_key: SecretStr | None = None
    passphrase: SecretStr | None = None

    def __repr__(self) -> str:
        return f"HostCredential(username={self.username!r}, secrets=***)"


SshCredential = HostCredential
"""The name the SSH adapter and the credential store use; the same shape serves WinRM."""


class CredentialSource(Protocol):
    """The encrypted credential store, as the remote adapters see it."""

    async def get(self, asset: AssetRef) -> HostCredential | None:
        """The credential for `asset`, or None to use the adapter's defaults."""
        ...


@dataclass(frozen=True, slots=True)
class AutomationOptions:
    """Tunables of the automation tools (register one in the ToolContext to override).

    The reboot commands are settings so that a test host can "reboot" by restarting
    its sshd instead of the machine the tests run on.
    """

    read_file_max_bytes: int = 256 * 1024
    fetch_file_max_bytes: int = 10 * 1024 * 1024  # fetch_file's cap (its max_bytes may lower it)
    write_file_max_bytes: int = 1024 * 1024  # the largest file write_file replaces (and diffs)
    diff_max_lines: int = 400  # lines of a diff shown in a prompt or reply
    process_limit: int = 200
    linux_reboot_command: str = (
        f"{AS_ROOT}; "
        "if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; "
        "then as_root systemctl reboot; else as_root shutdown -r now; fi"
    )
    linux_boot_id_command: str = "cat /proc/sys/kernel/random/boot_id"
    reboot_poll_interval_s: float = 2.0
    reboot_down_grace_s: float = 5.0
