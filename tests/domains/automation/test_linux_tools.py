"""The automation tools on a real Linux host over SSH (the testbed host has no systemd)."""

from __future__ import annotations

import asyncio
import os
import platform
from pathlib import Path
from typing import Any

import pytest

from domains.automation.linux import PROCESS_COMMAND, parse_processes
from domains.automation.ports import AutomationOptions
from domains.automation.tools import automation
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest, ToolFailed, ToolTimeout
from tests.domains.automation.conftest import RunTool
from tests.integration.sshd_fixtures import REBOOTABLE, SSH_HOSTS
from tests.integration.sshd_testbed import SshdTestbed

pytestmark = pytest.mark.sshd

WEB = AssetRef(name="web-01", address=SSH_HOSTS[2], os="linux")


async def test_system_info_facts_are_structured(run_tool: RunTool) -> None:
    out = await run_tool("automation.system_info", WEB)
    data = out.data
    assert data["uptime"]["seconds"] > 0 and data["uptime"]["human"]
    assert data["cpu"]["count"] == os.cpu_count()
    assert data["cpu"]["load_1m"] >= 0 and "load_15m" in data["cpu"]
    assert 0 < data["memory"]["available_mb"] <= data["memory"]["total_mb"]
    root = next(d for d in data["disk"] if d["mount"] == "/")
    assert root["size_mb"] > 0 and 0 <= root["use_percent"] <= 100
    assert root["used_mb"] + root["avail_mb"] <= root["size_mb"] + 1
    assert data["os"]["kernel"] == platform.release()
    assert data["os"]["name"] and data["os"]["id"]
    assert out.summary.startswith("up ")


async def test_system_info_subset(run_tool: RunTool) -> None:
    out = await run_tool("automation.system_info", WEB, facts=["memory", "os"])
    assert set(out.data) == {"memory", "os"}


@pytest.mark.parametrize("tool,extra", [("service_status", {}), ("service_control", {"action": "restart"})])
async def test_services_answer_clearly_without_systemd(
    run_tool: RunTool, tool: str, extra: dict[str, Any]
) -> None:
    with pytest.raises(
        ToolFailed, match=r"no systemd \(not booted with systemd\).*process named sshd is running"
    ):
        await run_tool(f"automation.{tool}", WEB, service="sshd", **extra)


@pytest.mark.parametrize("name", ["nginx; rm -rf /", "$(reboot)", "a b", "-h", "x`id`"])
def test_service_names_with_shell_syntax_are_rejected(name: str) -> None:
    spec = next(s for s in automation.specs if s.name == "automation.service_status")
    with pytest.raises(InvalidRequest, match="not a valid service name"):
        spec.parse_args({"service": name})


async def test_read_file_path_with_quotes_and_spaces(run_tool: RunTool, tmp_path: Path) -> None:
    path = tmp_path / 'it\'s a "log" $(touch PWNED) `id`.txt'
    path.write_text("".join(f"line {i}\n" for i in range(1, 11)))
    out = await run_tool("automation.read_file", WEB, path=str(path), tail_lines=3)
    assert out.stdout == "line 8\nline 9\nline 10\n"
    assert out.data == {"path": str(path), "lines": 3, "truncated": False}
    assert not _pwned(tmp_path)


def _pwned(tmp_path: Path) -> list[Path]:
    """Files an injected `touch PWNED` would have made (sshd runs commands in root's home)."""
    return [p for p in (tmp_path / "PWNED", Path("/root/PWNED"), Path.home() / "PWNED") if p.exists()]


async def test_read_file_keeps_the_last_bytes_under_the_cap(
    run_tool: RunTool, services: dict[type[Any], Any], tmp_path: Path
) -> None:
    services[AutomationOptions] = AutomationOptions(read_file_max_bytes=1024)
    path = tmp_path / "big.log"
    path.write_text("".join(f"entry {i:05d}\n" for i in range(1000)))
    out = await run_tool("automation.read_file", WEB, path=str(path), tail_lines=500)
    assert out.data["truncated"] is True
    assert out.stdout.startswith("[output truncated: showing the last 1024 bytes]\n")
    assert out.stdout.endswith("entry 00999\n")
    assert all(line.startswith("entry ") for line in out.stdout.splitlines()[1:])


@pytest.mark.parametrize("path,why", [("/nonexistent/file", "no such file"), ("/etc", "is a directory")])
async def test_read_file_failures_say_why(run_tool: RunTool, path: str, why: str) -> None:
    with pytest.raises(ToolFailed, match=why):
        await run_tool("automation.read_file", WEB, path=path)


async def test_process_list_matches_locally(run_tool: RunTool, tmp_path: Path) -> None:
    out = await run_tool("automation.process_list", WEB, match="sshd")
    assert out.data["matched"] >= 1 and out.data["total"] > out.data["matched"]
    assert all("sshd" in p["command"] for p in out.data["processes"])
    hostile = await run_tool("automation.process_list", WEB, match=f"$(touch {tmp_path}/PWNED)")
    assert hostile.data["matched"] == 0 and not (tmp_path / "PWNED").exists()


async def test_process_list_keeps_long_command_lines_whole() -> None:
    """ps cuts its lines to the terminal's width (COLUMNS, a login shell's setting) unless told not to."""
    marker = "opsconductor-long-argv-" + "x" * 180
    proc = await asyncio.create_subprocess_exec("sh", "-c", "sleep 30", marker)
    try:
        ps = await asyncio.create_subprocess_exec(
            "sh", "-c", PROCESS_COMMAND, stdout=asyncio.subprocess.PIPE, env={**os.environ, "COLUMNS": "80"}
        )
        listed, _ = await ps.communicate()
    finally:
        proc.kill()
        await proc.wait()
    found = [p["command"] for p in parse_processes(listed.decode()) if marker[:40] in p["command"]]
    assert [c.endswith(marker) for c in found] == [True]


async def test_run_command_reports_exit_code_and_streams(run_tool: RunTool) -> None:
    out = await run_tool("automation.run_command", WEB, command="echo hi; echo oops >&2; exit 4")
    assert (out.ok, out.exit_code, out.stdout, out.stderr) == (False, 4, "hi\n", "oops\n")
    assert out.summary == "exit 4: hi"


@pytest.mark.parametrize(
    "language,script",
    [
        ("bash", "name='it'\"'\"'s'\ncat <<'EOF'\n$name $(not run)\nEOF\necho \"$name\"\n"),
        ("python", "import sys\nprint('it\\'s', sys.version_info[0])\n"),
    ],
)
async def test_run_script_passes_body_unchanged(run_tool: RunTool, language: str, script: str) -> None:
    out = await run_tool("automation.run_script", WEB, language=language, script=script)
    assert out.ok, out.stderr
    expected = {"bash": "$name $(not run)\nit's\n", "python": "it's 3\n"}[language]
    assert out.stdout == expected


async def test_windows_target_without_winrm_is_a_clear_failure(run_tool: RunTool) -> None:
    win = AssetRef(name="win-01", address="127.0.0.1", os="windows")
    with pytest.raises(ToolFailed, match="WinRM access is not configured"):
        await run_tool("automation.system_info", win)


async def test_reboot_waits_for_a_new_boot(
    run_tool: RunTool, services: dict[type[Any], Any], in_testbed: SshdTestbed
) -> None:
    host = in_testbed.restartable_sshd(REBOOTABLE)
    services[AutomationOptions] = AutomationOptions(
        linux_reboot_command=host.reboot_command,
        linux_boot_id_command=host.boot_id_command,
        reboot_poll_interval_s=0.2,
    )
    out = await run_tool("automation.reboot", AssetRef(name="app-01", address=REBOOTABLE), wait_s=20)
    assert out.ok and out.summary.startswith("rebooted; back after")
    assert out.data["boot_id_before"] != out.data["boot_id_after"]
    assert host.boots == 2


async def test_reboot_that_does_not_happen_times_out(
    run_tool: RunTool, services: dict[type[Any], Any]
) -> None:
    services[AutomationOptions] = AutomationOptions(linux_reboot_command="true", reboot_poll_interval_s=0.2)
    with pytest.raises(ToolTimeout, match="still up with the same boot id"):
        await run_tool("automation.reboot", WEB, wait_s=1)
