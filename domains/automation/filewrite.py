"""Putting content into a file on a host, for write_file and copy_file: resolve, check, diff, replace.

    put(ctx, host, path, new, mode=, owner=, check=) -> ToolOutput
        the real path (links resolved on the target) checked by the path policy; the current file
        read (up to `write_file_max_bytes`) and diffed; in check mode, or when nothing would
        change, that is all; else `replace.replace` (backup, atomic rename, mode and owner)
    restore(output) -> the Call that copies the backup back (an undo) over the bytes the change
        wrote and nothing else (`if_sha256`), or why there is none

Also the small pieces the file tools share: the Linux host, the file session (SFTP, and sudo -n
for what the login may not touch), owner lookup.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from domains.automation import replace
from domains.automation.ports import FileSession, FileStat, RemoteFiles
from domains.automation.remote import Host, failure_text, options, require_target
from domains.automation.rootfiles import RootFallback
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.errors import TargetChanged, ToolFailed
from pipeline.registry import Call, ToolContext

RESOLVE_TIMEOUT_S = 20.0


def linux_host(ctx: ToolContext, target: AssetRef | None, tool: str) -> Host:
    host = Host(require_target(target), ctx)
    if host.windows:
        raise ToolFailed(f"{tool} works on Linux/Unix hosts (SFTP); {host.target.name} is a Windows host")
    return host


def file_port(ctx: ToolContext, host: Host) -> RemoteFiles:
    port = ctx.find(RemoteFiles)  # type: ignore[type-abstract]
    if port is None:
        raise ToolFailed(f"file access (SFTP) is not configured; cannot reach {host.target.name}")
    return port


@asynccontextmanager
async def files(ctx: ToolContext, host: Host) -> AsyncIterator[FileSession]:
    """A file session on `host`: SFTP as the login, and as root through `sudo -n` what the host
    refuses the login (domains.automation.rootfiles)."""
    async with file_port(ctx, host).session(host.target) as fs:
        yield RootFallback(fs, host)


async def checked_path(ctx: ToolContext, host: Host, path: str) -> str:
    """`path` resolved on the host, after the path policy allowed the real path."""
    real = await host.real_path(path, timeout_s=RESOLVE_TIMEOUT_S)
    ctx.check_path(real)  # a link to /etc/shadow is /etc/shadow
    return real


async def regular_file(fs: FileSession, real: str, asked: str) -> FileStat:
    found = await fs.stat(real)
    if found is None:
        raise ToolFailed(f"{asked}: no such file")
    if not found.regular:
        raise ToolFailed(f"{asked} is not a regular file")
    return found


def size_text(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} bytes"
    n /= 1024
    return f"{n:.1f} KiB" if n < 1024 else f"{n / 1024:.1f} MiB"


async def owner_ids(host: Host, owner: str) -> tuple[int, int]:
    """uid and gid of `user[:group]` on the host (the user's own group when none is named)."""
    user, _, group = owner.partition(":")
    group_id = (
        f"getent group {shlex.quote(group)} | cut -d: -f3" if group else f"id -g -- {shlex.quote(user)}"
    )
    result = await host.run(f"id -u -- {shlex.quote(user)} && {group_id}", timeout_s=RESOLVE_TIMEOUT_S)
    numbers = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if not result.ok or len(numbers) != 2 or not all(n.isdigit() for n in numbers):
        raise ToolFailed(f"owner {owner} is not known on {host.target.name}: {failure_text(result)}")
    return int(numbers[0]), int(numbers[1])


async def put(
    ctx: ToolContext,
    host: Host,
    path: str,
    new: bytes,
    *,
    mode: int | None,
    owner: tuple[int, int] | None,
    check: bool,
    verb: str = "wrote",
    expect: str | None = None,
) -> ToolOutput:
    """Write `new` to `path` on `host` (see the module docstring); in check mode only say what
    would change. `expect`: the SHA-256 the current file must have ("" for no file), else
    TargetChanged and nothing is written (an undo never overwrites a later change)."""
    opts = options(ctx)
    real = await checked_path(ctx, host, path)
    async with files(ctx, host) as fs:
        current = await fs.stat(real)
        if current is not None and not current.regular:
            raise ToolFailed(f"{path} is not a regular file")
        if current is not None and current.size > opts.write_file_max_bytes:
            limit = size_text(opts.write_file_max_bytes)
            raise ToolFailed(f"{path} is {size_text(current.size)}; files up to {limit} are replaced")
        old = await fs.read(real, opts.write_file_max_bytes + 1) if current is not None else None
        if expect is not None and _sha256(old) != expect:
            raise TargetChanged(
                f"{path} on {host.target.name} was changed after the change being undone "
                "(its content is not what that change wrote); not overwritten"
            )
        change = replace.diff(old, new, path, opts.diff_max_lines)
        attrs = _attribute_changes(current, mode, owner)
        data: dict[str, Any] = {
            "path": path,
            "real_path": real,
            "asset": host.target.name,
            "exists": current is not None,
            "changes": bool(change.text or attrs),
            "added": change.added,
            "removed": change.removed,
            **({"attributes": attrs} if attrs else {}),
        }
        if check or not data["changes"]:
            return _unchanged_or_check(check, path, data, change)
        done = await replace.replace(
            fs, real, new, current=current, old=old, mode=mode, owner=owner, now=datetime.now(UTC)
        )
    data.update(
        {"backup": done.backup or "", "mode": f"{done.mode:04o}", "check": False, "sha256": _sha256(new)}
    )
    if host.target.in_inventory:
        data["on"] = host.target.model_dump(mode="json")  # where an undo runs
    kept = f"; backup {done.backup}" if done.backup else " (new file)"
    summary = f"{verb} {path} on {host.target.name}: +{change.added} -{change.removed} lines{kept}"
    return ToolOutput(summary=summary, data=data, stdout=change.text)


def _sha256(data: bytes | None) -> str:
    """The SHA-256 of a file's bytes; "" for no file."""
    return hashlib.sha256(data).hexdigest() if data is not None else ""


def _attribute_changes(
    current: FileStat | None, mode: int | None, owner: tuple[int, int] | None
) -> list[str]:
    if current is None:
        return []
    found = []
    if mode is not None and mode != current.mode:
        found.append(f"mode {current.mode:04o} -> {mode:04o}")
    if owner is not None and owner != (current.uid, current.gid):
        found.append(f"owner {current.uid}:{current.gid} -> {owner[0]}:{owner[1]}")
    return found


def _unchanged_or_check(check: bool, path: str, data: dict[str, Any], change: replace.Diff) -> ToolOutput:
    if not data["changes"]:
        would = "already as requested: nothing " + ("would change" if check else "changed")
    elif not data["exists"]:
        would = f"would create it ({change.added} lines)"
    else:
        attrs = "".join(f", {a}" for a in data.get("attributes", []))
        would = f"would change +{change.added} -{change.removed} lines{attrs}"
    verb = "check write" if check else "write"
    out = {**data, "check": check, "would": would}
    return ToolOutput(summary=f"{verb} {path} on {data['asset']}: {would}", data=out, stdout=change.text)


def restore(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    """Undo of a write: copy the backup back over the file, on the host that was written."""
    data = output.data
    if not data.get("changes", True):
        return "nothing was changed"
    if not data.get("backup"):
        return f"{data.get('path') or args.get('path')} did not exist before; remove it by hand to undo"
    where = data.get("on")
    written = data.get("sha256")  # only over what the change wrote: never over a later change
    return Call(
        "automation.copy_file",
        {
            "path": data["backup"],
            "to": data.get("asset", ""),
            "to_path": data.get("real_path"),
            **({"if_sha256": written} if written else {}),
        },
        target=where if isinstance(where, dict) else None,
    )
