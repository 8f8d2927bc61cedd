"""Files the login may not touch itself, reached as root through `sudo -n`, like the other tools.

A `FileSession` over SFTP works as the login. With the documented non-root `opsconductor` login
that leaves root-only files unreadable and /etc unwritable, so `RootFallback` wraps the SFTP
session: an operation the host refuses the login (`AccessDenied`) is done again as root with one
fixed command through `as_root` (sudo -n for a non-root login; never a password prompt: without
the rule it fails at once and says which rule is missing). Data never goes through a command
line: it is staged by SFTP in a private directory of the login's (mktemp -d) and copied from
there, so write_file's semantics hold (temporary file in the target's directory, owner and mode,
hard-linked backup, atomic rename).

    stat     /usr/bin/stat -L -c %s/%f/%u/%g -- PATH
    read     /usr/bin/head -c LIMIT -- PATH          (into the staging directory, read by SFTP)
    create   /usr/bin/install -m MODE -T -- STAGED PATH
    chown    /usr/bin/chown UID:GID -- PATH
    chmod    /usr/bin/chmod MODE -- PATH
    link     /usr/bin/ln -- EXISTING NEW
    rename   /usr/bin/mv -f -T -- OLD NEW
    remove   /usr/bin/rm -f -- PATH

The sudoers rules for them are in docs/operations.md (tests/domains/automation/test_sudo_rules.py
runs them with a real non-root login and a real sudo).
"""

from __future__ import annotations

import shlex
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from domains.automation.linux import AS_ROOT
from domains.automation.ports import CommandResult, FileSession, FileStat
from domains.automation.remote import Host, failure_text
from pipeline.errors import AccessDenied, ToolFailed

T = TypeVar("T")
COMMAND_TIMEOUT_S = 60.0
_REGULAR = 0o100000
_TYPE = 0o170000


class RootFallback:
    """`FileSession`: the login's SFTP session, and as root what the host refuses the login."""

    def __init__(self, sftp: FileSession, host: Host) -> None:
        self._sftp = sftp
        self._host = host

    async def _either(self, own: Awaitable[T], as_root: Callable[[], Awaitable[T]]) -> T:
        try:
            return await own
        except AccessDenied:
            return await as_root()

    async def stat(self, path: str) -> FileStat | None:
        return await self._either(self._sftp.stat(path), lambda: self._stat(path))

    async def read(self, path: str, limit: int) -> bytes:
        return await self._either(self._sftp.read(path, limit), lambda: self._read(path, limit))

    async def create(self, path: str, data: bytes, mode: int) -> None:
        await self._either(self._sftp.create(path, data, mode), lambda: self._create(path, data, mode))

    async def set_owner(self, path: str, uid: int, gid: int) -> None:
        await self._either(
            self._sftp.set_owner(path, uid, gid), lambda: self._root("chown", f"{uid}:{gid}", "--", path)
        )

    async def set_mode(self, path: str, mode: int) -> None:
        await self._either(
            self._sftp.set_mode(path, mode), lambda: self._root("chmod", f"{mode:04o}", "--", path)
        )

    async def link(self, existing: str, new: str) -> bool:
        if await self._sftp.link(existing, new):
            return True
        linked = await self._command("ln", "--", existing, new)
        return linked.ok

    async def rename(self, old: str, new: str) -> None:
        await self._either(self._sftp.rename(old, new), lambda: self._root("mv", "-f", "-T", "--", old, new))

    async def remove(self, path: str) -> None:
        await self._either(self._sftp.remove(path), lambda: self._root("rm", "-f", "--", path))

    # ------------------------------------------------------------------ as root

    async def _stat(self, path: str) -> FileStat | None:
        found = await self._command("stat", "-L", "-c", "%s/%f/%u/%g", "--", path)
        if not found.ok and "No such file" in found.stderr:
            return None
        size, raw, uid, gid = _fields(found, path, 4)
        mode = int(raw, 16)
        return FileStat(
            size=int(size), mode=mode & 0o7777, uid=int(uid), gid=int(gid), regular=mode & _TYPE == _REGULAR
        )

    async def _read(self, path: str, limit: int) -> bytes:
        async with self._staging() as staging:
            copy = f"{staging}/read"
            command = _line("head", "-c", str(limit), "--", path) + f" > {shlex.quote(copy)}"
            _succeeded(await self._host.run(command, timeout_s=COMMAND_TIMEOUT_S), f"read {path}")
            return await self._sftp.read(copy, limit)

    async def _create(self, path: str, data: bytes, mode: int) -> None:
        async with self._staging() as staging:
            staged = f"{staging}/create"
            await self._sftp.create(staged, data, 0o600)
            await self._root("install", "-m", f"{mode:04o}", "-T", "--", staged, path)

    @asynccontextmanager
    async def _staging(self) -> AsyncIterator[str]:
        """A private directory of the login's (0700) for data on its way in or out; removed after."""
        made = await self._host.run("mktemp -d", timeout_s=COMMAND_TIMEOUT_S)
        folder = made.stdout.strip()
        if not made.ok or not folder.startswith("/"):
            raise ToolFailed(
                f"cannot make a staging directory on {self._host.target.name}: {failure_text(made)}"
            )
        try:
            yield folder
        finally:
            await self._host.run(f"rm -rf -- {shlex.quote(folder)}", timeout_s=COMMAND_TIMEOUT_S)

    async def _root(self, *argv: str) -> None:
        _succeeded(await self._command(*argv), f"{argv[0]} {argv[-1]}")

    async def _command(self, *argv: str) -> CommandResult:
        return await self._host.run(_line(*argv), timeout_s=COMMAND_TIMEOUT_S)


def _line(*argv: str) -> str:
    return f"{AS_ROOT}; as_root " + " ".join(shlex.quote(a) for a in argv)


def _succeeded(result: CommandResult, what: str) -> None:
    if not result.ok:
        raise ToolFailed(f"{what} as root: {failure_text(result)}")


def _fields(result: CommandResult, path: str, count: int) -> list[str]:
    _succeeded(result, f"stat {path}")
    fields = result.stdout.strip().split("/")
    if len(fields) != count:
        raise ToolFailed(f"stat {path} as root answered {result.stdout.strip()[:80]!r}")
    return fields
