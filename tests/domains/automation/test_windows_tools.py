"""The automation tools on a Windows target, through pywinrm and the WS-Management stand-in.

The stand-in records the exact PowerShell each tool sent, so these tests pin the quoting.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.winrm import PywinrmRemote
from domains.automation.ports import AutomationOptions, WindowsRemote
from domains.automation.tools import automation
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.registry import ToolContext
from tests.adapters.winrm.conftest import Script, bodies, script, windows, winrm_config, wsman
from tests.adapters.winrm.wsman_standin import Canned, WsmanStandIn, error_clixml

__all__ = ["script", "windows", "winrm_config", "wsman"]

WIN = AssetRef(name="win-app-01", address="127.0.0.1", os="windows", type="app_server")
SPECS = {spec.name: spec for spec in automation.specs}
W3SVC = {
    "Name": "W3SVC",
    "DisplayName": "World Wide Web Publishing Service",
    "Status": "Running",
    "StartType": "Automatic",
}


async def _run(windows: PywinrmRemote, name: str, **raw: Any) -> ToolOutput:
    services: dict[type[Any], Any] = {
        WindowsRemote: windows,
        AutomationOptions: AutomationOptions(reboot_poll_interval_s=0.05),
    }
    ctx = ToolContext(execution_id="test", step_id="s1", services=services)
    spec = SPECS[name]
    return await spec.func(ctx, WIN, spec.parse_args(raw))


async def test_service_status(windows: PywinrmRemote, wsman: WsmanStandIn, script: Script) -> None:
    script.on("Get-Service", Canned(stdout=json.dumps(W3SVC)))
    out = await _run(windows, "automation.service_status", service="W3SVC")
    assert out.data["running"] is True and out.data["enabled"] == "automatic"
    assert wsman.seen.scripts[0].endswith(
        "Get-Service -Name 'W3SVC' | Select-Object Name, DisplayName, "
        "@{n='Status'; e={$_.Status.ToString()}}, @{n='StartType'; e={$_.StartType.ToString()}} "
        "| ConvertTo-Json -Compress"
    )


async def test_missing_service(windows: PywinrmRemote, script: Script) -> None:
    error = "Get-Service : Cannot find any service with service name 'Nope'."
    script.on("Get-Service", Canned(stderr=error_clixml(error), exit_code=1))
    with pytest.raises(ToolFailed, match="no service named Nope"):
        await _run(windows, "automation.service_status", service="Nope")


async def test_service_restart(windows: PywinrmRemote, wsman: WsmanStandIn, script: Script) -> None:
    script.on("Restart-Service", Canned(stdout=json.dumps(W3SVC)))
    out = await _run(windows, "automation.service_control", service="W3SVC", action="restart")
    assert out.ok and out.summary.startswith("restart W3SVC: now W3SVC running")
    assert "Restart-Service -Force -Name 'W3SVC'; Get-Service -Name 'W3SVC'" in wsman.seen.scripts[0]


async def test_system_info(windows: PywinrmRemote, wsman: WsmanStandIn, script: Script) -> None:
    answer = {
        "os": {
            "caption": "Microsoft Windows Server 2022 Standard",
            "version": "10.0.20348",
            "build": "20348",
            "arch": "64-bit",
        },
        "uptime_s": 7200,
        "memory": {"total_kb": 4194304, "free_kb": 1048576},
        "cpu": {"count": 2, "load_percent": 7},
        "disks": [{"id": "C:", "size": 64 * 2**30, "free": 16 * 2**30}],
    }
    script.on("Win32_OperatingSystem", Canned(stdout=json.dumps(answer)))
    out = await _run(windows, "automation.system_info", facts=["uptime", "memory", "disk", "os"])
    assert set(out.data) == {"uptime", "memory", "disk", "os"}
    assert out.data["disk"][0] == {
        "mount": "C:",
        "filesystem": "ntfs",
        "size_mb": 65536,
        "used_mb": 49152,
        "avail_mb": 16384,
        "use_percent": 75,
    }
    assert "ConvertTo-Json -Compress -Depth 4" in wsman.seen.scripts[0]


async def test_read_file_quotes_the_path(windows: PywinrmRemote, wsman: WsmanStandIn, script: Script) -> None:
    script.on("Get-Content", Canned(stdout="a\r\nb\r\n"))
    path = "C:\\logs\\it's $(evil) `n.log"
    out = await _run(windows, "automation.read_file", path=path, tail_lines=2)
    assert out.stdout == "a\r\nb\r\n"
    assert wsman.seen.scripts[0].endswith("Get-Content -LiteralPath 'C:\\logs\\it''s $(evil) `n.log' -Tail 2")


async def test_process_list_filters_locally(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    procs = [
        {"Id": 4, "ProcessName": "w3wp", "CPU": 12.5, "WorkingSetMB": 80.1, "Path": "C:\\w3wp.exe"},
        {"Id": 8, "ProcessName": "lsass", "CPU": 1.0, "WorkingSetMB": 20.0, "Path": None},
    ]
    script.on("Get-Process", Canned(stdout=json.dumps(procs)))
    out = await _run(windows, "automation.process_list", match="W3WP")
    assert out.data["matched"] == 1 and out.data["processes"][0]["pid"] == 4
    assert "W3WP" not in wsman.seen.scripts[0]


async def test_run_command_and_powershell_script(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    script.on("Get-ChildItem", Canned(stdout="x\r\n", exit_code=0))
    out = await _run(windows, "automation.run_command", command="Get-ChildItem C:\\ | Select -First 1")
    assert out.ok and bodies(wsman)[0] == "Get-ChildItem C:\\ | Select -First 1"
    body = "$x = 'it''s'\nWrite-Output $x\n"
    script.on("Write-Output", Canned(stdout="it's\r\n"))
    out = await _run(windows, "automation.run_script", language="powershell", script=body)
    assert out.stdout == "it's\r\n" and bodies(wsman)[1] == body
    with pytest.raises(ToolFailed, match="bash scripts cannot run on a Windows host"):
        await _run(windows, "automation.run_script", language="bash", script="echo hi")


async def test_reboot_waits_for_a_new_boot_time(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    script.on("LastBootUpTime", Canned(stdout="2026-11-27T08:00:00.0000000Z\r\n"))

    def restart(script_text: str) -> Canned:
        script.on("LastBootUpTime", Canned(stdout="2026-11-27T12:00:00.0000000Z\r\n"))
        return Canned()

    script.on("Restart-Computer", restart)
    out = await _run(windows, "automation.reboot", wait_s=10)
    assert out.ok and out.data["boot_id_after"] == "2026-11-27T12:00:00.0000000Z"
    assert any(s.endswith("Restart-Computer -Force") for s in wsman.seen.scripts)
