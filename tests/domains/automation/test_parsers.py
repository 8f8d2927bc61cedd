"""Parsers and command builders on recorded outputs of other systems than the test host."""

from __future__ import annotations

import shlex

from domains.automation import linux, windows
from domains.automation.facts import human_duration

RECORDED = """\
@@uptime
356521.17 701234.50
@@cpu
8
0.52 0.61 0.70 2/1203 99812
@@memory
MemTotal:       16318480 kB
MemFree:         1203368 kB
Buffers:          200000 kB
Cached:          4000000 kB
@@disk
Filesystem     1024-blocks      Used Available Capacity Mounted on
/dev/sda1         51343840  20132376  28573668      42% /
/dev/sdb1        103081248  97000000   6081248      95% /srv/data with space
tmpfs              8159240         0   8159240       0% /dev/shm
@@os
PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
ID=ubuntu

@kernel Linux 5.15.0-105-generic x86_64
"""


def test_recorded_linux_facts() -> None:
    data = linux.parse_system_info(RECORDED)
    assert data["uptime"] == {"seconds": 356521, "human": "4 days 3 h 2 min"}
    assert data["cpu"] == {"count": 8, "load_1m": 0.52, "load_5m": 0.61, "load_15m": 0.7}
    # No MemAvailable (old kernel): free + buffers + cached.
    assert data["memory"]["total_mb"] == 15936 and data["memory"]["available_mb"] == 5277
    assert [d["mount"] for d in data["disk"]] == ["/", "/srv/data with space"]
    assert data["disk"][1]["use_percent"] == 94
    assert data["os"] == {
        "name": "Ubuntu 22.04.4 LTS",
        "id": "ubuntu",
        "version": "22.04",
        "kernel": "5.15.0-105-generic",
        "arch": "x86_64",
    }


def test_human_duration() -> None:
    assert human_duration(42) == "42 s"
    assert human_duration(3660) == "1 h 1 min"
    assert human_duration(86400 * 30 + 7200 + 60) == "30 days 2 h"


def test_systemctl_show_and_missing_systemd() -> None:
    props = linux.parse_show(
        ["Id=nginx.service", "LoadState=loaded", "ActiveState=active", "SubState=running", "MainPID=812"]
    )
    state = linux.service_state(props)
    assert state["running"] is True and state["main_pid"] == 812 and state["unit"] == "nginx.service"
    assert linux.no_systemd("", "System has not been booted with systemd as init system (PID 1).") == (
        "not booted with systemd",
        [],
    )
    assert linux.no_systemd("@@no-systemd systemctl not found|12 34 \n", "") == (
        "systemctl not found",
        [12, 34],
    )


def test_service_names_are_quoted_even_when_valid() -> None:
    command = linux.service_status_command("getty@tty1")
    assert "-- getty@tty1" in command  # a template instance keeps its own suffix rule
    assert shlex.split(command)  # parses as sh


def test_powershell_literals_double_every_single_quote_form() -> None:
    assert windows.ps_quote("C:\\it's\u2019 $(x) `n.log") == "'C:\\it''s\u2019\u2019 $(x) `n.log'"
    script = windows.read_file_script("C:\\logs\\a'b.log", 20)
    assert script.endswith("Get-Content -LiteralPath 'C:\\logs\\a''b.log' -Tail 20")


def test_windows_system_info_json() -> None:
    stdout = (
        '{"os":{"caption":"Microsoft Windows Server 2022 Standard","version":"10.0.20348","build":"20348",'
        '"arch":"64-bit"},"uptime_s":90061,"memory":{"total_kb":8388608,"free_kb":2097152},'
        '"cpu":{"count":4,"load_percent":12.5},"disks":{"id":"C:","size":107374182400,"free":53687091200}}'
    )
    data = windows.parse_system_info(stdout, ["uptime", "cpu", "memory", "disk", "os"])
    assert data["uptime"]["human"] == "1 day 1 h 1 min"
    assert data["memory"] == {"total_mb": 8192, "used_mb": 6144, "available_mb": 2048, "used_percent": 75.0}
    assert data["disk"] == [
        {
            "mount": "C:",
            "filesystem": "ntfs",
            "size_mb": 102400,
            "used_mb": 51200,
            "avail_mb": 51200,
            "use_percent": 50,
        }
    ]
    assert data["cpu"]["count"] == 4 and data["os"]["version"] == "10.0.20348"


def test_a_refusal_by_sudo_names_the_missing_rule_and_other_failures_their_last_line() -> None:
    from domains.automation.ports import CommandResult
    from domains.automation.remote import failure_text

    def failed(stderr: str) -> CommandResult:
        return CommandResult(exit_code=1, stdout="", stderr=stderr, truncated=False, duration_ms=1.0)

    refused = failure_text(failed("sudo: a password is required\n"))
    assert refused.startswith("sudo: a password is required: the login may not run this as root")
    assert "docs/operations.md" in refused
    assert failure_text(failed("Failed to restart nginx.service: Unit not found.\n")) == (
        "Failed to restart nginx.service: Unit not found."
    )


def test_privileged_commands_go_through_as_root() -> None:
    command = linux.service_control_command("nginx", "restart")
    assert f"{linux.AS_ROOT}; as_root systemctl restart -- nginx.service" in command
