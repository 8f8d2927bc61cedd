"""What runs on the sshd testbed's "targets": its sshd shares this machine's process table.

`running(token)` lists the pids whose command line contains `token` (a string unique to one
test, such as the path of its canary file); `kill_groups(token)` ends their process groups:
only processes a test itself started on a target, found by its own unique token.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path


def running(token: str) -> list[int]:
    """Pids of live (non-zombie) processes whose argv contains `token`."""
    found = []
    needle = token.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            argv = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in argv and state != "Z":
            found.append(int(entry.name))
    return found


def kill_groups(token: str) -> None:
    """SIGKILL the process groups of `running(token)` (cleanup after a test that left them)."""
    for pid in running(token):
        with contextlib.suppress(OSError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)


async def started(token: str, within_s: float = 20.0) -> bool:
    """Wait until something with `token` in its argv runs (polls every 20 ms, at most `within_s`:
    a scan of the process table is slow on a loaded machine)."""
    deadline = time.monotonic() + within_s
    while not running(token):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def files_left(*paths: Path) -> list[Path]:
    """Those of `paths` that exist (a canary some command was to write only if not stopped)."""
    return [p for p in paths if p.exists()]
