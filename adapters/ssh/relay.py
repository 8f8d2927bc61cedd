"""One host's command output piped into another host's command through the bot (two SSH channels).

asyncssh redirects the source process's stdout into the destination process's stdin with flow
control (a full destination window pauses reading from the source), so the bot holds at most a
window of data whatever the rate. Both commands must end by themselves: the caller bounds them
(a byte count, `timeout`). On a timeout or a cancellation both channels are closed; a bounded
command then ends on its own (no process-group stop, unlike `AsyncsshShell.run`).
"""

from __future__ import annotations

import asyncio
import time

import asyncssh

from domains.automation.ports import CommandResult
from pipeline.errors import TargetUnreachable, ToolTimeout


async def relay(
    source: asyncssh.SSHClientConnection,
    source_command: str,
    dest: asyncssh.SSHClientConnection,
    dest_command: str,
    timeout_s: float,
) -> tuple[CommandResult, CommandResult]:
    """(source's result, destination's result); `duration_ms` of each from the start."""
    started = time.perf_counter()
    opened: list[asyncssh.SSHClientProcess[bytes]] = []
    try:
        async with asyncio.timeout(timeout_s):
            receiver = await dest.create_process(dest_command, encoding=None)
            opened.append(receiver)
            sender = await source.create_process(
                source_command, encoding=None, stdin=asyncssh.DEVNULL, stdout=receiver.stdin
            )
            opened.append(sender)
            sent = _result(await sender.wait(), started)
            received = _result(await receiver.wait(), started)
    except TimeoutError as err:
        raise ToolTimeout(f"the relayed transfer did not finish within {timeout_s:g} s") from err
    except (asyncssh.Error, OSError) as err:
        raise TargetUnreachable(f"the relayed transfer broke off: {err}") from err
    finally:
        for process in opened:
            process.close()
    return sent, received


def _result(done: asyncssh.SSHCompletedProcess, started: float) -> CommandResult:
    return CommandResult(
        exit_code=done.exit_status,
        stdout=_text(done.stdout),
        stderr=_text(done.stderr),
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
        exit_signal=done.exit_signal[0] if done.exit_signal else None,
    )


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else ""
