"""PywinrmRemote against the WS-Management stand-in: the exchange, errors, timeouts, caps."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import pytest
from pydantic import SecretStr

from adapters.winrm import PywinrmRemote, WinrmConfig
from domains.automation.ports import TRUNCATION_MARKER
from pipeline.contracts import AssetRef
from pipeline.errors import OutcomeUncertain, TargetUnreachable, ToolTimeout
from pipeline.leftovers import tracking_unconfirmed_stops
from tests.adapters.winrm.conftest import Script, bodies
from tests.adapters.winrm.wsman_standin import Canned, WsmanStandIn, error_clixml

WIN = AssetRef(name="win-app-01", address="127.0.0.1", os="windows")


async def test_script_goes_through_the_whole_exchange(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    script.on("Get-Date", Canned(stdout="2026-11-27\r\n"))
    result = await windows.powershell(WIN, "Get-Date -Format 'yyyy-MM-dd'")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "2026-11-27\r\n", "")
    assert bodies(wsman) == ["Get-Date -Format 'yyyy-MM-dd'"]
    assert wsman.seen.commands[0][0] == "powershell"
    assert wsman.seen.commands[0][1].startswith("-NoProfile -NonInteractive -EncodedCommand ")
    assert wsman.seen.actions == ["Create", "Command", "Receive", "Signal", "Delete"]
    assert wsman.seen.signals == ["terminate"]


async def test_error_records_are_plain_text(windows: PywinrmRemote, script: Script) -> None:
    message = "Get-Service : Cannot find any service with service name 'nope'."
    script.on("Get-Service", Canned(stderr=error_clixml(message), exit_code=1))
    result = await windows.powershell(WIN, "Get-Service -Name 'nope'")
    assert (result.exit_code, result.stderr) == (1, message + "\n")


async def test_output_is_capped(windows: PywinrmRemote, script: Script) -> None:
    script.on("big", Canned(stdout="x" * 5000))
    result = await windows.powershell(WIN, "big", max_output=1024)
    assert result.truncated and result.stdout == "x" * 1024 + "\n" + TRUNCATION_MARKER.format(n=1024)


async def test_command_timeout_signals_deletes_and_stops_the_process_tree(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    script.on("Wait-Event -Timeout 600", Canned(hang=True))
    script.on("$needle = ", Canned(exit_code=0))  # the stop script: none of the tree is left
    with pytest.raises(ToolTimeout, match=r"did not finish within 0\.3 s; it was stopped"):
        await windows.powershell(WIN, "Wait-Event -Timeout 600", timeout_s=0.3)
    hung, stop = wsman.seen.scripts
    assert wsman.seen.actions[:2] == ["Create", "Command"]
    assert wsman.seen.actions[-6:] == ["Signal", "Delete", "Create", "Command", "Receive", "Delete"]
    # the stop script names exactly the hung run: a prefix of that run's encoded command line
    needle = stop.split("$needle = '", 1)[1].split("'", 1)[0]
    assert needle in wsman.seen.commands[0][1] and len(needle) >= 40
    assert hung.startswith("# opsconductor-run ") and "Stop-Process -Id $_ -Force" in stop


@pytest.mark.parametrize("stop_answer", [Canned(exit_code=3), Canned(hang=True)], ids=["outlives", "silent"])
async def test_a_stop_the_host_does_not_confirm_is_uncertain_and_noted(
    winrm_config: WinrmConfig, script: Script, stop_answer: Canned
) -> None:
    windows = PywinrmRemote(replace(winrm_config, stop_timeout_s=1.0))
    script.on("Wait-Event -Timeout 600", Canned(hang=True))
    script.on("$needle = ", stop_answer)
    try:
        with (
            tracking_unconfirmed_stops() as unconfirmed,
            pytest.raises(OutcomeUncertain, match="was not confirmed: it may still be running"),
        ):
            await windows.powershell(WIN, "Wait-Event -Timeout 600", timeout_s=0.3)
    finally:
        await windows.close()
    assert unconfirmed == {WIN.name}


async def test_a_cancelled_script_is_stopped_before_the_cancel_completes(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    script.on("Wait-Event -Timeout 600", Canned(hang=True))
    script.on("$needle = ", Canned(exit_code=3))
    with tracking_unconfirmed_stops() as unconfirmed:
        task = asyncio.create_task(windows.powershell(WIN, "Wait-Event -Timeout 600", timeout_s=60))
        for _ in range(500):
            if "Receive" in wsman.seen.actions:
                break
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(wsman.seen.scripts) == 2 and "$needle = " in wsman.seen.scripts[1]
    assert unconfirmed == {WIN.name}  # the stop script said some of the tree outlived it


async def test_wrong_password_is_unreachable(winrm_config: WinrmConfig) -> None:
    remote = PywinrmRemote(replace(winrm_config, password=SecretStr("wrong")))
    try:
        with pytest.raises(TargetUnreachable, match=r"login to .* was refused"):
            await remote.powershell(WIN, "Get-Date")
    finally:
        await remote.close()


async def test_closed_port_is_unreachable(winrm_config: WinrmConfig) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    remote = PywinrmRemote(replace(winrm_config, port=free_port))
    try:
        with pytest.raises(TargetUnreachable, match="refused the connection"):
            await remote.powershell(WIN, "Get-Date")
    finally:
        await remote.close()


async def test_session_is_reused(windows: PywinrmRemote, wsman: WsmanStandIn, script: Script) -> None:
    script.on("1", Canned(stdout="1"))
    for _ in range(3):
        await windows.powershell(WIN, "1")
    assert wsman.seen.actions.count("Create") == 3  # one shell per script ...
    assert len(windows._sessions) == 1  # ... over one HTTP session
