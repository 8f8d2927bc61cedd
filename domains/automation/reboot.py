"""Reboot a host and wait until it is back: a new boot id proves the reboot happened."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from domains.automation import windows
from domains.automation.ports import AutomationOptions
from domains.automation.remote import Host, failure_text
from pipeline.contracts import ToolOutput
from pipeline.errors import TargetUnreachable, ToolError, ToolFailed, ToolTimeout

PROBE_TIMEOUT_S = 15.0


async def reboot(host: Host, opts: AutomationOptions, wait_s: float) -> ToolOutput:
    """Read the boot id, issue the reboot, then poll until the boot id changes or `wait_s` ends."""
    boot_probe, reboot_command = _commands(host, opts)
    before = await _boot_id(host, boot_probe)
    if not before:
        raise ToolFailed("cannot read the boot id before rebooting")
    issued = time.monotonic()
    try:
        result = await host.run(reboot_command, timeout_s=30)
    except TargetUnreachable:
        result = None  # the connection went down with the host: expected
    if result is not None and not result.ok:
        return ToolOutput(
            ok=False,
            summary=f"reboot refused: {failure_text(result)}",
            stdout=result.stdout,
            stderr=result.stderr,
            exit_code=result.exit_code,
        )
    await host.forget()
    if wait_s <= 0:
        return ToolOutput(summary="reboot issued (not waiting for the host)", data={"boot_id_before": before})
    after = await _wait_for_new_boot(host, boot_probe, before, issued, wait_s, opts.reboot_poll_interval_s)
    back_after = round(time.monotonic() - issued, 1)
    data: dict[str, Any] = {"back_after_s": back_after, "boot_id_before": before, "boot_id_after": after}
    return ToolOutput(summary=f"rebooted; back after {back_after:g} s", data=data)


def _commands(host: Host, opts: AutomationOptions) -> tuple[str, str]:
    if host.windows:
        return windows.BOOT_ID, windows.REBOOT
    return opts.linux_boot_id_command, opts.linux_reboot_command


async def _boot_id(host: Host, probe: str) -> str:
    result = await host.run(probe, timeout_s=PROBE_TIMEOUT_S)
    return result.stdout.strip() if result.ok else ""


async def _wait_for_new_boot(
    host: Host, probe: str, before: str, issued: float, wait_s: float, interval: float
) -> str:
    deadline = issued + wait_s
    went_down = False
    while (remaining := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(interval, remaining))
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0.1)):
                now = await _boot_id(host, probe)
        except ToolError:
            went_down = True
            continue
        except TimeoutError:
            break
        if now and now != before:
            return now
        await host.forget()  # same boot: that connection will die with the reboot
    if went_down:
        raise ToolTimeout(f"the host went down but did not come back within {wait_s:g} s")
    raise ToolTimeout(
        f"the host is still up with the same boot id after {wait_s:g} s: the reboot did not happen"
    )
