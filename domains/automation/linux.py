"""Linux commands built from typed arguments (every value through shlex.quote) and their parsers.

Each builder returns one POSIX `sh` command line; each parser turns that command's
output into structured values. Sections of combined output are framed by ``@@name``
lines so one round trip answers several questions.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from typing import Any

from domains.automation.facts import disk_fact, memory_fact, uptime_fact

SECTION = "@@"
NO_SYSTEMD = "@@no-systemd"
# A command that needs root runs as `as_root CMD ...`: directly when the login is root, else
# through `sudo -n` (never prompts: a missing sudoers rule fails at once). The rules per tool
# are in docs/operations.md ("Connect your machines").
AS_ROOT = 'as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n -- "$@"; fi; }'
SUDO_REFUSED = (  # what sudo (or a shell without it) says when `sudo -n` may not run a command
    "sudo: a password is required",
    "sudo: a terminal is required",
    "is not in the sudoers file",
    "is not allowed to execute",
    "may not run sudo on",
    "sudo: not found",
    "sudo: command not found",
)
PSEUDO_FS = ("tmpfs", "devtmpfs", "squashfs", "efivarfs")
PSEUDO_SOURCES = frozenset({*PSEUDO_FS, "udev", "none", "shm", "run"})

_FACT_COMMANDS = {
    "uptime": "cat /proc/uptime",
    "cpu": "(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo); cat /proc/loadavg",
    "memory": "grep -E '^(MemTotal|MemAvailable|MemFree|Buffers|Cached):' /proc/meminfo",
    "disk": "df -P -k " + " ".join(f"-x {fs}" for fs in PSEUDO_FS) + " 2>/dev/null || df -P -k",
    "os": 'cat /etc/os-release 2>/dev/null; echo; echo "@kernel $(uname -srm)"',
}


def sections(text: str) -> dict[str, list[str]]:
    """Split ``@@name`` framed output into {name: lines}."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(SECTION):
            current = found.setdefault(line[len(SECTION) :].strip(), [])
        elif current is not None:
            current.append(line)
    return found


# --------------------------------------------------------------------------- system_info


def system_info_command(facts: Iterable[str]) -> str:
    return "; ".join(f"echo {SECTION}{fact}; {_FACT_COMMANDS[fact]}" for fact in facts)


def parse_system_info(text: str) -> dict[str, Any]:
    parsers = {"uptime": _uptime, "cpu": _cpu, "memory": _memory, "disk": _disk, "os": _os}
    data: dict[str, Any] = {}
    for name, lines in sections(text).items():
        if name in parsers:
            value = parsers[name](lines)
            if value is not None:
                data[name] = value
    return data


def _uptime(lines: list[str]) -> dict[str, Any] | None:
    try:
        return uptime_fact(float(lines[0].split()[0]))
    except (IndexError, ValueError):
        return None


def _cpu(lines: list[str]) -> dict[str, Any] | None:
    try:
        count = int(lines[0].strip())
        loads = [float(x) for x in lines[1].split()[:3]]
    except (IndexError, ValueError):
        return None
    return {"count": count, "load_1m": loads[0], "load_5m": loads[1], "load_15m": loads[2]}


def _memory(lines: list[str]) -> dict[str, Any] | None:
    kb: dict[str, float] = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if rest.split():
            kb[name.strip()] = float(rest.split()[0])
    if "MemTotal" not in kb:
        return None
    available = kb.get("MemAvailable")
    if available is None:  # kernels before 3.14
        available = kb.get("MemFree", 0) + kb.get("Buffers", 0) + kb.get("Cached", 0)
    return memory_fact(kb["MemTotal"] / 1024, available / 1024)


def _disk(lines: list[str]) -> list[dict[str, Any]]:
    disks = []
    for line in lines[1:]:  # header first
        fields = line.split(None, 5)
        if len(fields) < 6 or not fields[1].isdigit():
            continue
        filesystem, size, used, avail, _, mount = fields
        if filesystem in PSEUDO_SOURCES or int(size) == 0:
            continue
        disks.append(disk_fact(mount, filesystem, int(size) / 1024, int(used) / 1024, int(avail) / 1024))
    return disks


def _os(lines: list[str]) -> dict[str, Any]:
    release: dict[str, str] = {}
    kernel = ""
    for line in lines:
        if line.startswith("@kernel "):
            kernel = line[len("@kernel ") :].strip()
        elif "=" in line:
            key, _, value = line.partition("=")
            release[key.strip()] = _unquote(value.strip())
    parts = kernel.split()
    return {
        "name": release.get("PRETTY_NAME") or release.get("NAME", ""),
        "id": release.get("ID", ""),
        "version": release.get("VERSION_ID", ""),
        "kernel": parts[1] if len(parts) > 1 else kernel,
        "arch": parts[2] if len(parts) > 2 else "",
    }


def _unquote(value: str) -> str:
    try:
        words = shlex.split(value)
    except ValueError:
        return value
    return words[0] if len(words) == 1 else value


# --------------------------------------------------------------------------- services (systemd)

SHOW_PROPERTIES = "Id,Description,LoadState,ActiveState,SubState,UnitFileState,MainPID,ActiveEnterTimestamp"


def unit_name(service: str) -> str:
    return service if "." in service.split("@")[-1] else f"{service}.service"


def _systemd_guard(service: str) -> str:
    """Prints NO_SYSTEMD with the reason (and matching process ids) and exits 0 without systemd."""
    name = shlex.quote(service.split(".")[0][:15])
    pids = f"$(pgrep -x -- {name} 2>/dev/null | head -n 20 | tr '\\n' ' ')"
    return (
        "if ! command -v systemctl >/dev/null 2>&1; then "
        f'echo "{NO_SYSTEMD} systemctl not found|{pids}"; exit 0; '
        "elif [ ! -d /run/systemd/system ]; then "
        f'echo "{NO_SYSTEMD} not booted with systemd|{pids}"; exit 0; fi'
    )


def service_status_command(service: str) -> str:
    unit = shlex.quote(unit_name(service))
    return f"{_systemd_guard(service)}; systemctl show --no-pager --property={SHOW_PROPERTIES} -- {unit}"


def service_control_command(service: str, action: str) -> str:
    unit = shlex.quote(unit_name(service))
    return (
        f"{_systemd_guard(service)}; {AS_ROOT}; as_root systemctl {shlex.quote(action)} -- {unit}; rc=$?; "
        f"echo {SECTION}show; systemctl show --no-pager --property={SHOW_PROPERTIES} -- {unit}; "
        f"echo {SECTION}rc; echo $rc"
    )


def sudo_refused(stderr: str) -> bool:
    """Whether a command failed because the login may not run it as root through `sudo -n`."""
    return any(sign in stderr for sign in SUDO_REFUSED)


def no_systemd(stdout: str, stderr: str) -> tuple[str, list[int]] | None:
    """(reason, pids of processes named like the service) when the host has no systemd."""
    for line in stdout.splitlines():
        if line.startswith(NO_SYSTEMD):
            reason, _, pids = line[len(NO_SYSTEMD) :].partition("|")
            return reason.strip(), [int(p) for p in pids.split() if p.isdigit()]
    if "System has not been booted with systemd" in stderr:
        return "not booted with systemd", []
    return None


def parse_show(lines: Sequence[str]) -> dict[str, str]:
    props: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


def service_state(props: dict[str, str]) -> dict[str, Any]:
    main_pid = props.get("MainPID", "0")
    return {
        "unit": props.get("Id", ""),
        "description": props.get("Description", ""),
        "loaded": props.get("LoadState", ""),
        "active": props.get("ActiveState", ""),
        "sub": props.get("SubState", ""),
        "enabled": props.get("UnitFileState", ""),
        "main_pid": int(main_pid) if main_pid.isdigit() and main_pid != "0" else None,
        "since": props.get("ActiveEnterTimestamp", ""),
        "running": props.get("ActiveState") == "active",
    }


# --------------------------------------------------------------------------- processes

PROCESS_COMMAND = "LC_ALL=C ps -ww -eo pid=,user=,pcpu=,pmem=,rss=,etimes=,args= --sort=-pcpu"


def parse_processes(text: str) -> list[dict[str, Any]]:
    processes = []
    for line in text.splitlines():
        fields = line.split(None, 6)
        if len(fields) < 7 or not fields[0].isdigit():
            continue
        pid, user, cpu, mem, rss, elapsed, args = fields
        try:
            processes.append(
                {
                    "pid": int(pid),
                    "user": user,
                    "cpu_percent": float(cpu),
                    "mem_percent": float(mem),
                    "rss_mb": round(int(rss) / 1024, 1),
                    "elapsed_s": int(elapsed),
                    "command": args,
                }
            )
        except ValueError:
            continue
    return processes


# --------------------------------------------------------------------------- files and scripts

READ_FAILED = 2


def real_path_command(path: str) -> str:
    """The path with every symbolic link and `..` resolved (empty output when it cannot be)."""
    return f"readlink -f -- {shlex.quote(path)} 2>/dev/null; true"


def read_file_command(path: str, tail_lines: int, max_bytes: int) -> str:
    """Last `tail_lines` lines, at most `max_bytes` (+1 so the caller can tell it was cut)."""
    fail = f"exit {READ_FAILED}"
    return (
        f"f={shlex.quote(path)}; "
        f"if [ ! -e \"$f\" ]; then echo 'no such file' >&2; {fail}; "
        f"elif [ -d \"$f\" ]; then echo 'is a directory' >&2; {fail}; "
        f"elif [ ! -r \"$f\" ]; then echo 'permission denied' >&2; {fail}; fi; "
        f'tail -n {int(tail_lines)} -- "$f" | tail -c {int(max_bytes) + 1}'
    )


SCRIPT_RUNNERS = {
    "bash": "bash -s",
    "python": "python3 -",
    "powershell": "pwsh -NoLogo -NoProfile -NonInteractive -Command -",
}


def script_command(language: str) -> str:
    """The interpreter reads the script from stdin: nothing in the script is ever quoted."""
    return SCRIPT_RUNNERS[language]
