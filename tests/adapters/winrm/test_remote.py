"""PywinrmRemote against the WS-Management stand-in: the exchange, errors, timeouts, caps."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from pydantic import SecretStr

from adapters.winrm import PywinrmRemote, WinrmConfig
from domains.automation.ports import TRUNCATION_MARKER
from pipeline.contracts import AssetRef
from pipeline.errors import TargetUnreachable, ToolTimeout
from tests.adapters.winrm.conftest import Script
from tests.adapters.winrm.wsman_standin import Canned, WsmanStandIn, error_clixml

WIN = AssetRef(name="win-app-01", address="127.0.0.1", os="windows")


async def test_script_goes_through_the_whole_exchange(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    script.on("Get-Date", Canned(stdout="2026-11-27\r\n"))
    result = await windows.powershell(WIN, "Get-Date -Format 'yyyy-MM-dd'")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "2026-11-27\r\n", "")
    assert wsman.seen.scripts == ["Get-Date -Format 'yyyy-MM-dd'"]
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


async def test_command_timeout_signals_and_deletes(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    script.on("Start-Sleep", Canned(hang=True))
    with pytest.raises(ToolTimeout, match=r"did not finish within 0\.3 s"):
        await windows.powershell(WIN, "Start-Sleep 600", timeout_s=0.3)
    assert wsman.seen.actions[-2:] == ["Signal", "Delete"]


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
