"""PowerShell built from typed arguments (every value a quoted literal) and its JSON parsers.

Scripts end in ``ConvertTo-Json -Compress`` so answers are parsed, not scraped; enums are
converted to strings first because Windows PowerShell 5.1 serialises them as numbers.
"""

from __future__ import annotations

import json
from typing import Any

from domains.automation.facts import disk_fact, memory_fact, uptime_fact
from pipeline.errors import ToolFailed

# PowerShell treats these as single quotes too; each is escaped by doubling it.
_SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")
PREAMBLE = "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue'; "


def ps_quote(value: str) -> str:
    """A PowerShell single-quoted (verbatim) string literal holding `value`."""
    for quote in _SINGLE_QUOTES:
        value = value.replace(quote, quote * 2)
    return f"'{value}'"


def parse_json(stdout: str) -> Any:
    text = stdout.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ToolFailed(f"unexpected PowerShell output (not JSON): {text[:200]!r}") from err


def as_list(value: Any) -> list[Any]:
    """ConvertTo-Json turns a one-element array into the element itself."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- system_info

SYSTEM_INFO = (
    PREAMBLE + "$os = Get-CimInstance Win32_OperatingSystem; "
    "$cs = Get-CimInstance Win32_ComputerSystem; "
    "$cpu = @(Get-CimInstance Win32_Processor); "
    "$disks = @(Get-CimInstance Win32_LogicalDisk -Filter 'DriveType=3'); "
    "[pscustomobject]@{ "
    "os = @{ caption = $os.Caption; version = $os.Version; build = $os.BuildNumber; "
    "arch = $os.OSArchitecture }; "
    "uptime_s = [int64]((Get-Date) - $os.LastBootUpTime).TotalSeconds; "
    "memory = @{ total_kb = [int64]$os.TotalVisibleMemorySize; free_kb = [int64]$os.FreePhysicalMemory }; "
    "cpu = @{ count = [int]$cs.NumberOfLogicalProcessors; "
    "load_percent = ($cpu | Measure-Object -Property LoadPercentage -Average).Average }; "
    "disks = @($disks | ForEach-Object { "
    "@{ id = $_.DeviceID; size = [int64]$_.Size; free = [int64]$_.FreeSpace } }) "
    "} | ConvertTo-Json -Compress -Depth 4"
)


def parse_system_info(stdout: str, facts: list[str]) -> dict[str, Any]:
    raw = parse_json(stdout) or {}
    data: dict[str, Any] = {}
    if "uptime" in facts and raw.get("uptime_s") is not None:
        data["uptime"] = uptime_fact(float(raw["uptime_s"]))
    if "cpu" in facts and raw.get("cpu"):
        load = raw["cpu"].get("load_percent")
        data["cpu"] = {"count": raw["cpu"].get("count"), "load_percent": load, "load_1m": None}
    if "memory" in facts and raw.get("memory"):
        total = raw["memory"]["total_kb"] / 1024
        data["memory"] = memory_fact(total, raw["memory"]["free_kb"] / 1024)
    if "disk" in facts:
        data["disk"] = [_disk(d) for d in as_list(raw.get("disks")) if d.get("size")]
    if "os" in facts and raw.get("os"):
        info = raw["os"]
        data["os"] = {
            "name": info.get("caption", ""),
            "id": "windows",
            "version": info.get("version", ""),
            "kernel": f"NT {info.get('version', '')} build {info.get('build', '')}".strip(),
            "arch": info.get("arch", ""),
        }
    return data


def _disk(raw: dict[str, Any]) -> dict[str, Any]:
    size, free = raw["size"] / 2**20, (raw.get("free") or 0) / 2**20
    return disk_fact(raw.get("id", ""), "ntfs", size, size - free, free)


# --------------------------------------------------------------------------- services

_SERVICE_JSON = (
    "Select-Object Name, DisplayName, "
    "@{n='Status'; e={$_.Status.ToString()}}, @{n='StartType'; e={$_.StartType.ToString()}} "
    "| ConvertTo-Json -Compress"
)
_VERBS = {"start": "Start-Service", "stop": "Stop-Service -Force", "restart": "Restart-Service -Force"}


def service_status_script(service: str) -> str:
    return f"{PREAMBLE}Get-Service -Name {ps_quote(service)} | {_SERVICE_JSON}"


def service_control_script(service: str, action: str) -> str:
    name = ps_quote(service)
    return f"{PREAMBLE}{_VERBS[action]} -Name {name}; Get-Service -Name {name} | {_SERVICE_JSON}"


def service_state(stdout: str) -> dict[str, Any]:
    raw = parse_json(stdout) or {}
    status = str(raw.get("Status", ""))
    return {
        "unit": raw.get("Name", ""),
        "description": raw.get("DisplayName", ""),
        "active": status.lower(),
        "enabled": str(raw.get("StartType", "")).lower(),
        "running": status == "Running",
    }


# --------------------------------------------------------------------------- processes, files, reboot

PROCESS_LIST = (
    PREAMBLE + "@(Get-Process | Sort-Object CPU -Descending | Select-Object Id, ProcessName, "
    "@{n='CPU'; e={[double]$_.CPU}}, @{n='WorkingSetMB'; e={[math]::Round($_.WorkingSet64 / 1MB, 1)}}, "
    "@{n='Path'; e={$_.Path}}) | ConvertTo-Json -Compress"
)


def parse_processes(stdout: str) -> list[dict[str, Any]]:
    return [
        {
            "pid": p.get("Id"),
            "user": "",
            "cpu_s": p.get("CPU"),
            "rss_mb": p.get("WorkingSetMB"),
            "command": p.get("Path") or p.get("ProcessName", ""),
            "name": p.get("ProcessName", ""),
        }
        for p in as_list(parse_json(stdout))
    ]


def read_file_script(path: str, tail_lines: int) -> str:
    return f"{PREAMBLE}Get-Content -LiteralPath {ps_quote(path)} -Tail {int(tail_lines)}"


REBOOT = PREAMBLE + "Restart-Computer -Force"
BOOT_ID = PREAMBLE + "(Get-CimInstance Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().ToString('o')"
