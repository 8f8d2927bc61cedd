"""`AsyncsshFiles`: the automation domain's `RemoteFiles` over SFTP on `AsyncsshShell`'s pool.

One SFTP channel per file session, on the pooled connection of the shell (same logins, host
keys, concurrency limit). SFTP errors become `ToolFailed` naming the path and the host's reason
(`AccessDenied` when the host refused the login: the file tools then go through `sudo -n`); a
lost connection becomes `TargetUnreachable`. A host without the SFTP subsystem is named as such
(the file tools need it; `Subsystem sftp` in sshd_config).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import asyncssh

from adapters.ssh.shell import AsyncsshShell
from domains.automation.ports import FileStat
from pipeline.contracts import AssetRef
from pipeline.errors import AccessDenied, TargetUnreachable, ToolFailed

T = TypeVar("T")

_NO_LINK = (asyncssh.SFTPOpUnsupported, asyncssh.SFTPPermissionDenied, asyncssh.SFTPFailure)


class _SftpSession:
    """`FileSession` on one SFTP channel."""

    def __init__(self, sftp: asyncssh.SFTPClient, host: str) -> None:
        self._sftp = sftp
        self._host = host

    async def _do(self, what: str, path: str, operation: Awaitable[T]) -> T:
        try:
            return await operation
        except asyncssh.SFTPError as err:
            denied = AccessDenied if isinstance(err, asyncssh.SFTPPermissionDenied) else ToolFailed
            raise denied(f"{what} {path} on {self._host}: {err.reason or 'refused'}") from err
        except (asyncssh.Error, OSError) as err:
            raise TargetUnreachable(f"connection to {self._host} was lost during {what} {path}") from err

    async def stat(self, path: str) -> FileStat | None:
        try:
            attrs = await self._do("stat", path, self._sftp.stat(path))
        except ToolFailed as err:
            if isinstance(err.__cause__, asyncssh.SFTPNoSuchFile):
                return None
            raise
        permissions = attrs.permissions or 0
        return FileStat(
            size=attrs.size or 0,
            mode=permissions & 0o7777,
            uid=attrs.uid if attrs.uid is not None else -1,
            gid=attrs.gid if attrs.gid is not None else -1,
            regular=attrs.type == asyncssh.FILEXFER_TYPE_REGULAR,
        )

    async def read(self, path: str, limit: int) -> bytes:
        async def read() -> bytes:
            async with self._sftp.open(path, "rb", encoding=None) as handle:
                data: bytes | str = await handle.read(limit)
                return data.encode() if isinstance(data, str) else data

        return await self._do("read", path, read())

    async def create(self, path: str, data: bytes, mode: int) -> None:
        async def create() -> None:
            attrs = asyncssh.SFTPAttrs(permissions=mode)
            async with self._sftp.open(path, "xb", attrs, encoding=None) as handle:
                await handle.write(data)

        await self._do("create", path, create())

    async def set_owner(self, path: str, uid: int, gid: int) -> None:
        await self._do("chown", path, self._sftp.setstat(path, asyncssh.SFTPAttrs(uid=uid, gid=gid)))

    async def set_mode(self, path: str, mode: int) -> None:
        await self._do("chmod", path, self._sftp.chmod(path, mode))

    async def link(self, existing: str, new: str) -> bool:
        try:
            await self._sftp.link(existing, new)
        except _NO_LINK:
            return False
        except asyncssh.SFTPError as err:
            raise ToolFailed(f"link {existing} to {new} on {self._host}: {err.reason}") from err
        return True

    async def rename(self, old: str, new: str) -> None:
        await self._do("rename", f"{old} to", self._sftp.posix_rename(old, new))

    async def remove(self, path: str) -> None:
        await self._do("remove", path, self._sftp.remove(path))


class AsyncsshFiles:
    """RemoteFiles over SFTP, sharing `shell`'s pooled connections."""

    def __init__(self, shell: AsyncsshShell) -> None:
        self.shell = shell

    @contextlib.asynccontextmanager
    async def session(self, target: AssetRef) -> AsyncIterator[_SftpSession]:
        async with self.shell.connection(target) as conn:
            try:
                sftp = await conn.start_sftp_client()
            except (asyncssh.ChannelOpenError, asyncssh.SFTPError) as err:
                raise ToolFailed(
                    f"{target.name} offers no SFTP ({err.reason}); the file tools need it"
                ) from err
            except (asyncssh.Error, OSError) as err:
                raise TargetUnreachable(f"cannot open SFTP on {target.name}: {err}") from err
            try:
                yield _SftpSession(sftp, target.name)
            finally:
                sftp.exit()
