"""Check mode and undo for the automation tools: read-only probes that say, per host, what a change
would do, and the inverse of a change once done.

    service_control -> the service's state and since when, its processes, the ports it listens
                       on and the established connections on them (what a stop/restart drops)
    reboot          -> uptime, logged-in users, running services not enabled to start at boot

Every command here only reads (systemctl show / list-units / is-enabled, pgrep, ps, ss, who,
/proc); the tests assert on a real sshd that nothing changes.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, Protocol

from domains.automation import linux, windows
from domains.automation.facts import human_duration, uptime_fact
from domains.automation.remote import Host, failure_text, require_target
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.errors import ToolFailed
from pipeline.registry import Call, ToolContext

CHECK_TIMEOUT_S = 30.0
BOOT_STATES = {"enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "linked"}
PORT = re.compile(r":(\d+)$")
USERS = re.compile(r"pid=(\d+)")
HAS_SYSTEMD = "command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]"


class ServiceAction(Protocol):
    service: str
    action: str


# --------------------------------------------------------------------------- service_control


def service_check_command(service: str) -> str:
    unit = shlex.quote(linux.unit_name(service))
    name = shlex.quote(service.split(".")[0][:15])
    show = f"systemctl show --no-pager --property={linux.SHOW_PROPERTIES} -- {unit}"
    return "; ".join(
        [
            f"echo @@show; if {HAS_SYSTEMD}; then {show}; fi",
            f"echo @@pids; pgrep -x -- {name} 2>/dev/null | head -n 50",
            f'echo @@age; p=$(pgrep -o -x -- {name} 2>/dev/null); [ -n "$p" ] && ps -o etimes= -p "$p"',
            "echo @@listen; ss -Hltnp 2>/dev/null",
            "echo @@established; ss -Htn state established 2>/dev/null",
            "true",
        ]
    )


def parse_service_check(text: str, service: str, action: str) -> dict[str, Any]:
    parts = linux.sections(text)
    props = linux.parse_show(parts.get("show", []))
    if props.get("LoadState") == "not-found":
        raise ToolFailed(f"there is no service named {service} on this host")
    state = linux.service_state(props) if props else {}
    pids = {int(p) for p in parts.get("pids", []) if p.strip().isdigit()}
    if state.get("main_pid"):
        pids.add(int(state["main_pid"]))
    running = bool(state["running"]) if state else bool(pids)
    age = next((int(a) for a in parts.get("age", []) if a.strip().isdigit()), None)
    since = str(state.get("since") or "") or (f"for {human_duration(age)}" if age is not None else "")
    listening, listeners = _listening(parts.get("listen", []), pids, service)
    ports = sorted(listening)
    connections = _established(parts.get("established", []), set(ports))
    return {
        "check": True,
        "action": action,
        "service": service,
        "systemd": bool(props),
        "running": running,
        "state": f"{state.get('active')} ({state.get('sub')})"
        if state
        else ("running" if running else "not running"),
        "since": since,
        "pids": sorted(pids),
        "ports": ports,
        "listeners": sorted(listeners),
        "connections": connections,
        **_prediction(action, running, ports, connections),
    }


def _listening(lines: list[str], pids: set[int], service: str) -> tuple[set[int], set[int]]:
    """(ports, listening pids) of the sockets the service's processes listen on."""
    ports, listeners = set(), set()
    for line in lines:
        owners = {int(p) for p in USERS.findall(line)}
        if owners & pids or f'(("{service}"' in line:
            local = next((f for f in line.split() if PORT.search(f)), "")
            if match := PORT.search(local):
                ports.add(int(match.group(1)))
                listeners |= owners
    return ports, listeners


def _established(lines: list[str], ports: set[int]) -> int:
    count = 0
    for line in lines:
        local = next((f for f in line.split() if PORT.search(f)), "")
        match = PORT.search(local)
        count += bool(match and int(match.group(1)) in ports)
    return count


def _prediction(action: str, running: bool, ports: list[int], connections: int) -> dict[str, Any]:
    dropped = (
        f"; {connections} active connection(s) on port(s) {', '.join(map(str, ports))} would be dropped"
        if connections
        else (f"; no active connections on port(s) {', '.join(map(str, ports))}" if ports else "")
    )
    if action == "start":
        would = (
            "already running: start would change nothing" if running else "not running: start would start it"
        )
        return {"changes": not running, "would": would}
    if action == "stop":
        would = (
            f"running: stop would stop it{dropped}"
            if running
            else "already stopped: stop would change nothing"
        )
        return {"changes": running, "would": would}
    would = (
        f"running: restart would stop and start it{dropped}"
        if running
        else "not running: restart would start it"
    )
    return {"changes": True, "would": would}


async def service_control_check(ctx: ToolContext, target: AssetRef | None, args: ServiceAction) -> ToolOutput:
    """What start/stop/restart would do on each host: state, since when, connections it would drop."""
    host = Host(require_target(target), ctx)
    if host.windows:
        result = await host.run(windows.service_status_script(args.service), timeout_s=CHECK_TIMEOUT_S)
        if not result.ok:
            raise ToolFailed(f"Get-Service failed: {failure_text(result)}")
        state = windows.service_state(result.stdout)
        running = bool(state["running"])
        data = {"check": True, "action": args.action, **state, **_prediction(args.action, running, [], 0)}
        return ToolOutput(
            summary=f"check {args.action} {args.service}: {data['would']} (connections not probed)",
            data=data,
        )
    result = await host.run(service_check_command(args.service), timeout_s=CHECK_TIMEOUT_S)
    data = parse_service_check(result.stdout, args.service, args.action)
    since = (
        f" since {data['since']}"
        if data["since"] and not data["since"].startswith("for")
        else (f" {data['since']}" if data["since"] else "")
    )
    pids = f" (pid {', '.join(map(str, data['pids'][:5]))})" if data["pids"] else ""
    summary = f"check {args.action} {args.service}: {data['state']}{since}{pids}; {data['would']}"
    return ToolOutput(summary=summary, data=data)


# --------------------------------------------------------------------------- reboot

REBOOT_CHECK = "; ".join(
    [
        "echo @@uptime; cat /proc/uptime",
        "echo @@users; who 2>/dev/null",
        f"echo @@boot; if {HAS_SYSTEMD}; then "
        "systemctl list-units --type=service --state=running --no-legend --plain 2>/dev/null | "
        'while read -r u _; do echo "$u $(systemctl is-enabled -- "$u" 2>/dev/null || true)"; done; '
        "else echo '@@no-systemd'; fi",
        "true",
    ]
)


def parse_reboot_check(text: str) -> dict[str, Any]:
    parts = linux.sections(text)
    uptime = next(
        (uptime_fact(float(line.split()[0])) for line in parts.get("uptime", []) if line.split()), None
    )
    users = sorted({line.split()[0] for line in parts.get("users", []) if line.split()})
    boot = parts.get("boot", [])
    known = "@@no-systemd" not in boot and "no-systemd" not in parts
    not_at_boot = []
    for line in boot:
        unit, _, state = line.partition(" ")
        if unit and unit.endswith(".service") and state.strip() not in BOOT_STATES:
            not_at_boot.append(f"{unit} ({state.strip() or 'unknown'})")
    return {
        "check": True,
        "action": "reboot",
        "uptime": uptime,
        "users": users,
        "boot_known": known,
        "not_enabled_at_boot": not_at_boot,
        "changes": True,
    }


async def reboot_check(ctx: ToolContext, target: AssetRef | None, args: Any) -> ToolOutput:
    """What a reboot would interrupt on each host: uptime, who is logged in, services that would
    not come back (running now, not enabled to start at boot)."""
    host = Host(require_target(target), ctx)
    if host.windows:
        result = await host.run(windows.SYSTEM_INFO, timeout_s=CHECK_TIMEOUT_S)
        data = {"check": True, "action": "reboot", **windows.parse_system_info(result.stdout, ["uptime"])}
        return ToolOutput(summary="check reboot: " + _uptime_text(data.get("uptime")), data=data)
    result = await host.run(REBOOT_CHECK, timeout_s=CHECK_TIMEOUT_S)
    data = parse_reboot_check(result.stdout)
    if data["uptime"] is None:
        raise ToolFailed(f"cannot read the uptime: {failure_text(result)}")
    users = (
        f"{len(data['users'])} logged in ({', '.join(data['users'])})"
        if data["users"]
        else "nobody logged in"
    )
    if not data["boot_known"]:
        boot = "cannot tell which services start at boot (no systemd)"
    elif data["not_enabled_at_boot"]:
        boot = "would not come back after a reboot: " + ", ".join(data["not_enabled_at_boot"])
    else:
        boot = "every running service is enabled at boot"
    summary = f"check reboot: {_uptime_text(data['uptime'])}; {users}; {boot}"
    return ToolOutput(summary=summary, data=data)


def _uptime_text(uptime: object) -> str:
    return f"up {uptime['human']}" if isinstance(uptime, dict) else "uptime unknown"


# --------------------------------------------------------------------------- undo

INVERSE_ACTION = {"stop": "start", "start": "stop"}


def service_control_undo(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    """stop <-> start; a restart leaves the service as it was, so there is nothing to reverse."""
    inverse = INVERSE_ACTION.get(str(args.get("action")))
    if inverse is None:
        return "a restart has no inverse (the service is running as before)"
    return Call("automation.service_control", {"service": args["service"], "action": inverse})


def reboot_undo(args: Mapping[str, Any], output: ToolOutput) -> Call | str:
    return "a reboot cannot be undone"
