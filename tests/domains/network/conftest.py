"""Network test fixtures: a network namespace with dead addresses, and a loopback DNS server.

The namespace (created and deleted by the `netns` fixture) has only `lo` up plus:
- 10.99.0.0/24 routed to a blackhole: the local stack refuses to send (EINVAL);
- 10.98.0.0/24 routed through a veth pair to a gateway that never answers (a static
  neighbour entry), so probes there are silently dropped and time out;
- net.ipv4.ping_group_range opened for every group, so unprivileged ICMP works there.
Probes into it run in a subprocess (`ip netns exec`), outside the in-process network guard.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.domains.network.dns_server import StandInZone, start_dns_server

REPO = Path(__file__).resolve().parents[3]
PROBE_SCRIPT = Path(__file__).with_name("netns_probe.py")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture(scope="session")
def netns() -> Iterator[str]:
    """The name of a namespace with blackholed and silent addresses; skipped when unavailable."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2 (ip)")
    name = f"octest-net-{uuid.uuid4().hex[:8]}"
    try:
        _ip("netns", "add", name)
    except subprocess.CalledProcessError as err:
        pytest.skip(f"cannot create a network namespace: {err.stderr.decode().strip()}")
    try:
        _setup(name)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


def _setup(name: str) -> None:
    _ip("-n", name, "link", "set", "lo", "up")
    _ip("-n", name, "route", "add", "blackhole", "10.99.0.0/24")
    _ip("-n", name, "link", "add", "octv0", "type", "veth", "peer", "name", "octv1")
    _ip("-n", name, "addr", "add", "10.97.0.1/24", "dev", "octv0")
    _ip("-n", name, "link", "set", "octv0", "up")
    _ip("-n", name, "link", "set", "octv1", "up")
    _ip(
        "-n",
        name,
        "neigh",
        "add",
        "10.97.0.2",
        "lladdr",
        "02:00:00:00:00:02",
        "dev",
        "octv0",
        "nud",
        "permanent",
    )
    _ip("-n", name, "route", "add", "10.98.0.0/24", "via", "10.97.0.2")
    subprocess.run(
        ["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"],
        check=True,
        capture_output=True,
        timeout=10,
    )


async def run_in_netns(
    name: str, command: dict[str, Any], *, user: str | None = None, script: Path = PROBE_SCRIPT
) -> Any:
    """Run one probe command (see netns_probe.py, or `script`) inside the namespace; return its JSON."""
    argv = ["ip", "netns", "exec", name]
    if user:
        argv += ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    argv += [sys.executable, str(script), json.dumps(command)]
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 45)
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout)


@pytest.fixture
async def dns_server() -> AsyncIterator[tuple[str, int, StandInZone]]:
    """A DNS server on 127.0.0.1 answering from a small zone; yields (address, port, zone)."""
    zone = StandInZone.example()
    transport, port = await start_dns_server(zone)
    try:
        yield "127.0.0.1", port, zone
    finally:
        transport.close()


from tests.db.conftest import (  # noqa: E402, F401  (database fixtures: SQLite and PostgreSQL)
    db_url,
    engine,
    migrated_url,
    sessions,
    sqlite_url,
)
