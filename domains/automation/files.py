"""File tools over SSH/SFTP: fetch a file into the thread, write one with a diff and a backup.

    automation.fetch_file  (read)  path, max_bytes -> the file, size-capped, kept by the bot
                                   (`FetchedFiles`) and uploaded to the thread; text shown;
                                   credentials in a text file masked in the copy too
    automation.write_file  (write) path, content or template, mode, owner -> diff against the
                                   current file, timestamped backup, atomic replace, mode and
                                   owner kept (`replace.py`); its check shows the diff only

Paths are resolved on the target (links, `..`) and the real path is checked by the path policy
(`ToolContext.check_path`) before anything is read or written, as for read_file. Linux/Unix
hosts only (SFTP); a Windows target is refused with that reason.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import Field, field_validator, model_validator

from domains.automation import phrasing as words
from domains.automation import replace
from domains.automation.fileargs import FileArgs, render_content
from domains.automation.ports import FetchedFiles, FileSession, FileStat, RemoteFiles
from domains.automation.remote import Host, failure_text, options, require_target
from domains.automation.toolset import automation
from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.redaction import Redactor
from pipeline.registry import Call, ToolContext

REDACT = Redactor()
RESOLVE_TIMEOUT_S = 20.0
SHOWN_TEXT_BYTES = 64 * 1024  # a fetched text file up to this size is also shown in the reply
OWNER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$")


class FetchFileArgs(FileArgs):
    max_bytes: int | None = Field(None, ge=1, le=1024**3, description="fetch at most this many bytes")


class WriteFileArgs(FileArgs):
    content: str | None = Field(None, max_length=1024 * 1024, description="the file's new content")
    template: str | None = Field(
        None, max_length=128, description="a file template's name, rendered per host"
    )
    mode: str | None = Field(None, description="permission bits in octal, e.g. 0644 (default: kept)")
    owner: str | None = Field(None, description="user or user:group (default: kept)")

    @field_validator("mode", mode="before")
    @classmethod
    def octal(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # 'mode 0640' read as the number 640: the digits are the octal bits
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"0?[0-7]{3,4}", value)):
            raise ValueError(f"mode must be octal permission bits like 0644, not {value!r}")
        return value

    @field_validator("owner")
    @classmethod
    def user_group(cls, value: str | None) -> str | None:
        if value is not None and not all(OWNER.match(part) for part in value.split(":", 1)):
            raise ValueError(f"owner must be user or user:group, not {value!r}")
        return value

    @model_validator(mode="after")
    def one_source(self) -> WriteFileArgs:
        if (self.content is None) == (self.template is None):
            raise ValueError("give either content or template")
        return self


def _linux_host(ctx: ToolContext, target: AssetRef | None, tool: str) -> Host:
    host = Host(require_target(target), ctx)
    if host.windows:
        raise ToolFailed(f"{tool} works on Linux/Unix hosts (SFTP); {host.target.name} is a Windows host")
    return host


def _files(ctx: ToolContext, host: Host) -> RemoteFiles:
    port = ctx.find(RemoteFiles)  # type: ignore[type-abstract]
    if port is None:
        raise ToolFailed(f"file access (SFTP) is not configured; cannot reach {host.target.name}")
    return port


async def _checked_path(ctx: ToolContext, host: Host, path: str) -> str:
    real = await host.real_path(path, timeout_s=RESOLVE_TIMEOUT_S)
    ctx.check_path(real)  # a link to /etc/shadow is /etc/shadow
    return real


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- fetch_file


@automation.tool(
    "automation.fetch_file", FetchFileArgs, risk=Risk.READ, timeout_s=120, phrasing=words.FETCH_FILE
)
async def fetch_file(ctx: ToolContext, target: AssetRef | None, args: FetchFileArgs) -> ToolOutput:
    """Fetch a whole file (size-capped) and attach it to the conversation."""
    host = _linux_host(ctx, target, "fetch_file")
    cap = min(args.max_bytes or options(ctx).fetch_file_max_bytes, options(ctx).fetch_file_max_bytes)
    real = await _checked_path(ctx, host, args.path)
    async with _files(ctx, host).session(host.target) as fs:
        found = await _regular(fs, real, args.path)
        data = await fs.read(real, cap + 1)
    truncated = len(data) > cap
    data = data[:cap]
    text = _as_text(data)
    masked = REDACT(text) if text is not None else None
    redacted = masked is not None and masked != text
    if masked is not None:  # chat is no place for credentials: the attached copy is masked too
        text, data = masked, masked.encode()
    keeper = ctx.find(FetchedFiles)  # type: ignore[type-abstract]
    saved = await keeper.keep(ctx.execution_id, host.target.name, real, data) if keeper else ""
    cut = f" (cut to the first {_size(cap)} of {_size(found.size)})" if truncated else ""
    summary = f"fetched {args.path} ({_size(len(data))}){cut}" + (
        "" if saved else "; not kept: no file store"
    )
    out = {
        "path": args.path,
        "real_path": real,
        "size": found.size,
        "bytes": len(data),
        "truncated": truncated,
        "sha256": hashlib.sha256(data).hexdigest(),
        "saved": saved,
        "redacted": redacted,
    }
    shown = text if text is not None and len(data) <= SHOWN_TEXT_BYTES else ""
    return ToolOutput(summary=summary, data=out, stdout=shown, files=(saved,) if saved else ())


async def _regular(fs: FileSession, real: str, asked: str) -> FileStat:
    found = await fs.stat(real)
    if found is None:
        raise ToolFailed(f"{asked}: no such file")
    if not found.regular:
        raise ToolFailed(f"{asked} is not a regular file")
    return found


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


# --------------------------------------------------------------------------- write_file


async def _owner_ids(host: Host, owner: str) -> tuple[int, int]:
    """uid and gid of `user[:group]` on the target (the user's own group when none is named)."""
    user, _, group = owner.partition(":")
    group_id = (
        f"getent group {shlex.quote(group)} | cut -d: -f3" if group else f"id -g -- {shlex.quote(user)}"
    )
    result = await host.run(f"id -u -- {shlex.quote(user)} && {group_id}", timeout_s=RESOLVE_TIMEOUT_S)
    numbers = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if not result.ok or len(numbers) != 2 or not all(n.isdigit() for n in numbers):
        raise ToolFailed(f"owner {owner} is not known on {host.target.name}: {failure_text(result)}")
    return int(numbers[0]), int(numbers[1])


async def write_file_check(ctx: ToolContext, target: AssetRef | None, args: WriteFileArgs) -> ToolOutput:
    """The diff write_file would apply on each host (and mode/owner changes); changes nothing."""
    return await _write(ctx, target, args, check=True)


def write_file_undo(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    """Copy the backup back over the file (on the same host); a new file has none."""
    backup = cast(str, output.data.get("backup") or "")
    if not output.data.get("changes", True):
        return "nothing was changed"
    if not backup:
        return f"{args.get('path')} did not exist before; remove it by hand to undo"
    to_path = output.data.get("real_path") or args["path"]
    return Call(
        "automation.copy_file", {"path": backup, "to": output.data.get("asset", ""), "to_path": to_path}
    )


@automation.tool(
    "automation.write_file",
    WriteFileArgs,
    risk=Risk.WRITE,
    timeout_s=120,
    phrasing=words.WRITE_FILE,
    check=write_file_check,
    undo=write_file_undo,
)
async def write_file(ctx: ToolContext, target: AssetRef | None, args: WriteFileArgs) -> ToolOutput:
    """Write a file (content or a template) atomically, keeping a timestamped backup and the
    file's mode and owner; the approval shows the diff against the current file."""
    return await _write(ctx, target, args, check=ctx.check)


async def _write(
    ctx: ToolContext, target: AssetRef | None, args: WriteFileArgs, *, check: bool
) -> ToolOutput:
    host = _linux_host(ctx, target, "write_file")
    opts = options(ctx)
    new = (await render_content(ctx, host.target, args.content, args.template)).encode()
    real = await _checked_path(ctx, host, args.path)
    owner = await _owner_ids(host, args.owner) if args.owner else None
    mode = int(args.mode, 8) if args.mode else None
    async with _files(ctx, host).session(host.target) as fs:
        current = await fs.stat(real)
        if current is not None and not current.regular:
            raise ToolFailed(f"{args.path} is not a regular file")
        if current is not None and current.size > opts.write_file_max_bytes:
            raise ToolFailed(
                f"{args.path} is {_size(current.size)}; write_file replaces files up to "
                f"{_size(opts.write_file_max_bytes)}"
            )
        old = await fs.read(real, opts.write_file_max_bytes + 1) if current is not None else None
        change = replace.diff(old, new, args.path, opts.diff_max_lines)
        attrs = _attribute_changes(current, mode, owner)
        data: dict[str, Any] = {
            "path": args.path,
            "real_path": real,
            "asset": host.target.name,
            "exists": current is not None,
            "changes": bool(change.text or attrs),
            "added": change.added,
            "removed": change.removed,
            **({"attributes": attrs} if attrs else {}),
        }
        if check or not data["changes"]:
            return _unchanged_or_check(check, args, data, change)
        done = await replace.replace(
            fs, real, new, current=current, old=old, mode=mode, owner=owner, now=datetime.now(UTC)
        )
    data.update({"backup": done.backup or "", "mode": f"{done.mode:04o}", "check": False})
    kept = f"; backup {done.backup}" if done.backup else " (new file)"
    summary = f"wrote {args.path}: +{change.added} -{change.removed} lines{kept}"
    return ToolOutput(summary=summary, data=data, stdout=change.text)


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


def _unchanged_or_check(
    check: bool, args: WriteFileArgs, data: dict[str, Any], change: replace.Diff
) -> ToolOutput:
    if not data["changes"]:
        would = (
            "already as requested: nothing would change" if check else "already as requested; nothing changed"
        )
    elif not data["exists"]:
        would = f"would create it ({change.added} lines)"
    else:
        would = f"would change +{change.added} -{change.removed} lines" + "".join(
            f", {a}" for a in data.get("attributes", [])
        )
    verb = "check write" if check else "write"
    return ToolOutput(
        summary=f"{verb} {args.path}: {would}",
        data={**data, "check": check, "would": would},
        stdout=change.text,
    )
