"""File tools over SSH/SFTP: fetch a file into the thread, write one, copy one between hosts.

    automation.fetch_file  (read)  path, max_bytes -> the file, size-capped, kept by the bot
                                   (`FetchedFiles`) and attached to the thread; text shown;
                                   credentials in a text file masked in the copy too
    automation.write_file  (write) path, content or template, mode, owner -> diff against the
                                   current file, timestamped backup, atomic replace, mode and
                                   owner kept; its check shows the diff; undo copies the backup back
    automation.copy_file   (write) path, to, to_path -> the file from each target to the asset
                                   `to`, through the bot, written there like write_file does

Paths are resolved on their host (links, `..`) and the real paths are checked by the path policy
(`ToolContext.check_path`) before anything is read or written, as for read_file. copy_file
declares `to` a destination: planned, policed, assessed and locked like a target (`ToolSpec.
destinations`), and checked again when it runs (`ToolContext.check_target`). Linux/Unix
hosts only (SFTP); a Windows target is refused with that reason. A non-root login reaches what it
may not read or write itself through `sudo -n` (domains.automation.rootfiles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from domains.automation import phrasing as words
from domains.automation.fileargs import CopyFileArgs, FetchFileArgs, WriteFileArgs, render_content
from domains.automation.filewrite import (
    checked_path,
    files,
    linux_host,
    owner_ids,
    put,
    regular_file,
    restore,
    size_text,
)
from domains.automation.ports import FetchedFiles
from domains.automation.remote import options
from domains.automation.toolset import automation
from pipeline.contracts import AssetRef, Risk, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.ports import AssetDirectory
from pipeline.redaction import Redactor
from pipeline.registry import Call, ToolContext

REDACT = Redactor()
SHOWN_TEXT_BYTES = 64 * 1024  # a fetched text file up to this size is also shown in the reply


# --------------------------------------------------------------------------- fetch_file


@automation.tool(
    "automation.fetch_file", FetchFileArgs, risk=Risk.READ, timeout_s=120, phrasing=words.FETCH_FILE
)
async def fetch_file(ctx: ToolContext, target: AssetRef | None, args: FetchFileArgs) -> ToolOutput:
    """Fetch a whole file (size-capped) and attach it to the conversation."""
    host = linux_host(ctx, target, "fetch_file")
    cap = min(args.max_bytes or options(ctx).fetch_file_max_bytes, options(ctx).fetch_file_max_bytes)
    real = await checked_path(ctx, host, args.path)
    async with files(ctx, host) as fs:
        found = await regular_file(fs, real, args.path)
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
    cut = f" (cut to the first {size_text(cap)} of {size_text(found.size)})" if truncated else ""
    kept = "" if saved else "; not kept: no file store"
    summary = f"fetched {args.path} ({size_text(len(data))}){cut}{kept}"
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


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


# --------------------------------------------------------------------------- write_file


async def write_file_check(ctx: ToolContext, target: AssetRef | None, args: WriteFileArgs) -> ToolOutput:
    """The diff write_file would apply on each host (and mode/owner changes); changes nothing."""
    return await _write(ctx, target, args, check=True)


def write_file_undo(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    """Copy the backup back over the file; a file that did not exist before has none."""
    return restore(args, output)


@automation.tool(
    "automation.write_file",
    WriteFileArgs,
    risk=Risk.WRITE,
    timeout_s=120,
    phrasing=words.WRITE_FILE,
    check=write_file_check,
    undo=write_file_undo,
    preview=True,
)
async def write_file(ctx: ToolContext, target: AssetRef | None, args: WriteFileArgs) -> ToolOutput:
    """Write a file (content or a template) atomically, keeping a timestamped backup and the
    file's mode and owner; the approval shows the diff against the current file."""
    return await _write(ctx, target, args, check=ctx.check)


async def _write(
    ctx: ToolContext, target: AssetRef | None, args: WriteFileArgs, *, check: bool
) -> ToolOutput:
    host = linux_host(ctx, target, "write_file")
    new = (await render_content(ctx, host.target, args.content, args.template)).encode()
    owner = await owner_ids(host, args.owner) if args.owner else None
    mode = int(args.mode, 8) if args.mode else None
    return await put(ctx, host, args.path, new, mode=mode, owner=owner, check=check)


# --------------------------------------------------------------------------- copy_file


async def copy_file_check(ctx: ToolContext, target: AssetRef | None, args: CopyFileArgs) -> ToolOutput:
    """What copy_file would change at the destination: the diff against the file there."""
    return await _copy(ctx, target, args, check=True)


def copy_file_undo(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    """Copy the destination's backup back (on the destination); a new file there has none."""
    return restore(args, output)


@automation.tool(
    "automation.copy_file",
    CopyFileArgs,
    risk=Risk.WRITE,
    timeout_s=300,
    phrasing=words.COPY_FILE,
    check=copy_file_check,
    undo=copy_file_undo,
    preview=True,
    destinations=("to",),  # written there: locked, assessed and checked like a target
)
async def copy_file(ctx: ToolContext, target: AssetRef | None, args: CopyFileArgs) -> ToolOutput:
    """Copy a file from each target to another asset (through the bot), keeping a backup of the
    file it replaces there; the copy gets the source's mode (and, on the same host, its owner)."""
    return await _copy(ctx, target, args, check=ctx.check)


async def _copy(ctx: ToolContext, target: AssetRef | None, args: CopyFileArgs, *, check: bool) -> ToolOutput:
    source = linux_host(ctx, target, "copy_file")
    destination = linux_host(ctx, await _asset(ctx, args.to), "copy_file")
    ctx.check_target(destination.target)  # the step's rules hold where the copy lands too
    cap = options(ctx).write_file_max_bytes
    real = await checked_path(ctx, source, args.path)
    async with files(ctx, source) as fs:
        found = await regular_file(fs, real, args.path)
        if found.size > cap:
            raise ToolFailed(
                f"{args.path} is {size_text(found.size)}; copy_file copies files up to {size_text(cap)}"
            )
        data = await fs.read(real, cap + 1)
    same = destination.target.name == source.target.name
    owner = (found.uid, found.gid) if same else None  # uids mean the same only on the same host
    out = await put(
        ctx,
        destination,
        args.destination_path,
        data,
        mode=found.mode,
        owner=owner,
        check=check,
        verb="copied to",
        expect=args.if_sha256,
    )
    facts = {**out.data, "source": source.target.name, "source_path": args.path}
    return out.model_copy(update={"data": facts})


async def _asset(ctx: ToolContext, name: str) -> AssetRef:
    """The inventory asset `name`: never guessed, an unknown one is reported back."""
    directory = ctx.find(AssetDirectory)  # type: ignore[type-abstract]
    found = [a for a in await directory.snapshot() if a.name.lower() == name.lower()] if directory else []
    if not found:
        raise ToolFailed(f"there is no asset named {name!r} in the inventory to copy to")
    return found[0]
