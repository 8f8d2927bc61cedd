"""Replacing a remote file safely: a diff first, a timestamped backup, an atomic rename.

    diff(old, new, path)            -> unified diff text (binary files said so), and counts
    replace(fs, path, data, ...)    -> Replaced: the backup's path (None for a new file)

The new content goes to a temporary file in the same directory (created 0600 so nobody reads
it half-written), gets the owner and mode of the file it replaces (or those asked for), and is
renamed over the file: a reader sees the old file or the new one, never a mix. The backup,
``<path>.<UTC stamp>.bak`` beside the file, is a hard link to the old file (its exact bytes,
mode and owner) or, where the host refuses a link, a copy made the same careful way. A name
with dots is ignored by cron.d, sudoers.d and run-parts directories.
"""

from __future__ import annotations

import difflib
import posixpath
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from domains.automation.ports import FileSession, FileStat
from pipeline.errors import ToolFailed

BACKUP_SUFFIX = ".bak"
PRIVATE = 0o600


@dataclass(frozen=True, slots=True)
class Diff:
    text: str  # unified diff ("" when equal)
    added: int
    removed: int
    shown: int  # lines of `text` kept (the rest cut to fit)
    cut: bool


def diff(old: bytes | None, new: bytes, path: str, max_lines: int) -> Diff:
    """The unified diff of the file at `path` from `old` (None: no file yet) to `new`."""
    if old == new:
        return Diff("", 0, 0, 0, False)
    try:
        before = (old or b"").decode().splitlines(keepends=True)
        after = new.decode().splitlines(keepends=True)
    except UnicodeDecodeError:
        text = f"Binary files {path} differ ({len(old or b'')} -> {len(new)} bytes)\n"
        return Diff(text, 0, 0, 1, False)
    source = path if old is not None else "/dev/null"
    lines = list(difflib.unified_diff(before, after, source, path))
    added = sum(1 for x in lines if x.startswith("+") and not x.startswith("+++"))
    removed = sum(1 for x in lines if x.startswith("-") and not x.startswith("---"))
    kept = [x if x.endswith("\n") else x + "\n\\ No newline at end of file\n" for x in lines[:max_lines]]
    cut = len(lines) > max_lines
    if cut:
        kept.append(f"[diff cut: {len(lines) - max_lines} more lines]\n")
    return Diff("".join(kept), added, removed, min(len(lines), max_lines), cut)


def backup_path(path: str, now: datetime) -> str:
    return f"{path}.{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}{BACKUP_SUFFIX}"


@dataclass(frozen=True, slots=True)
class Replaced:
    backup: str | None  # None: there was no file to keep
    mode: int
    uid: int
    gid: int


async def replace(
    fs: FileSession,
    path: str,
    data: bytes,
    *,
    current: FileStat | None,
    old: bytes | None,
    mode: int | None = None,
    owner: tuple[int, int] | None = None,
    now: datetime,
) -> Replaced:
    """Write `data` to `path` atomically, keeping a backup of `current` (its content `old`).

    Mode and owner are kept from `current` unless given; a new file gets `mode` or 0644 and
    the login's owner unless `owner` is given.
    """
    folder, name = posixpath.split(path)
    temp = posixpath.join(folder, f".{name}.opsconductor-{secrets.token_hex(4)}.tmp")
    final_mode = mode if mode is not None else (current.mode if current else 0o644)
    final_owner = owner or ((current.uid, current.gid) if current else None)
    await fs.create(temp, data, PRIVATE)
    try:
        if final_owner is not None:
            await fs.set_owner(temp, *final_owner)
        await fs.set_mode(temp, final_mode)  # after chown, which clears set-id bits
        backup = await _backup(fs, path, current, old, now) if current is not None else None
        await fs.rename(temp, path)
    except BaseException:
        await _discard(fs, temp)
        raise
    uid, gid = final_owner or (-1, -1)
    return Replaced(backup, final_mode, uid, gid)


async def _backup(fs: FileSession, path: str, current: FileStat, old: bytes | None, now: datetime) -> str:
    backup = await _free_name(fs, backup_path(path, now))
    if await fs.link(path, backup):
        return backup
    content = old if old is not None else await fs.read(path, current.size + 1)
    await fs.create(backup, content, PRIVATE)
    await fs.set_owner(backup, current.uid, current.gid)
    await fs.set_mode(backup, current.mode)
    return backup


async def _free_name(fs: FileSession, first: str) -> str:
    """`first`, or `<stem>-2.bak`, `-3` ... when an earlier backup took it (two changes a second)."""
    stem = first.removesuffix(BACKUP_SUFFIX)
    for n in range(1, 100):
        candidate = first if n == 1 else f"{stem}-{n}{BACKUP_SUFFIX}"
        if await fs.stat(candidate) is None:
            return candidate
    raise ToolFailed(f"{stem}: 99 backups this second already; not writing another")


async def _discard(fs: FileSession, temp: str) -> None:
    try:
        await fs.remove(temp)
    except Exception:
        return
