"""The network guard refuses every destination but loopback, before any packet leaves."""

from __future__ import annotations

import asyncio
import errno
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.infra import netguard

REPO = Path(__file__).resolve().parents[2]


def test_connect_to_a_documentation_address_is_refused_before_connecting() -> None:
    with netguard.expect_refusals() as refused, socket.socket() as sock:
        sock.setblocking(False)  # a real connect would now raise BlockingIOError (EINPROGRESS)
        with pytest.raises(netguard.NonLoopbackConnection):
            sock.connect(("192.0.2.11", 80))
        with pytest.raises(OSError) as not_connected:
            sock.getpeername()
    assert not_connected.value.errno == errno.ENOTCONN
    assert refused == ["connect to ('192.0.2.11', 80)"]


def test_connect_ex_and_sendto_are_refused() -> None:
    with netguard.expect_refusals() as refused:
        with socket.socket() as tcp, pytest.raises(netguard.NonLoopbackConnection):
            tcp.connect_ex(("198.51.100.7", 22))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            with pytest.raises(netguard.NonLoopbackConnection):
                udp.sendto(b"x", ("203.0.113.5", 53))
            with pytest.raises(netguard.NonLoopbackConnection):
                udp.sendto(b"x", 0, ("10.0.0.1", 53))
        with socket.socket(socket.AF_INET6) as tcp6, pytest.raises(netguard.NonLoopbackConnection):
            tcp6.connect(("2001:db8::1", 443, 0, 0))
    assert len(refused) == 4


def test_name_lookups_other_than_localhost_are_refused() -> None:
    with netguard.expect_refusals() as refused, pytest.raises(socket.gaierror):
        socket.getaddrinfo("inventory-host.example.com", 443)
    assert refused == ["name lookup of 'inventory-host.example.com'"]
    assert socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
    assert socket.getaddrinfo("192.0.2.11", 80)  # a literal needs no lookup: nothing is sent


async def test_asyncio_connections_are_refused() -> None:
    with netguard.expect_refusals() as refused, pytest.raises(netguard.NonLoopbackConnection):
        await asyncio.wait_for(asyncio.open_connection("192.0.2.11", 80), timeout=5)
    assert refused


def test_permit_opens_only_the_named_network_and_only_inside_the_block() -> None:
    with netguard.permit("10.200.0.0/24"):
        assert netguard.host_allowed("10.200.0.9")
        assert not netguard.host_allowed("10.200.1.9")
    assert not netguard.host_allowed("10.200.0.9")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.5.6.7", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("192.0.2.11", False),
        ("10.1.2.3", False),
        ("::ffff:192.0.2.1", False),
        ("fe80::1%lo", False),
        ("example.com", False),
    ],
)
def test_host_classification(host: str, allowed: bool) -> None:
    assert netguard.host_allowed(host) is allowed


async def test_loopback_tcp_and_unix_sockets_work(tmp_path: Path) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    tcp = await asyncio.start_server(echo, "127.0.0.1", 0)
    unix = await asyncio.start_unix_server(echo, str(tmp_path / "echo.sock"))
    async with tcp, unix:
        port = tcp.sockets[0].getsockname()[1]
        for opened in (
            asyncio.open_connection("127.0.0.1", port),
            asyncio.open_connection("localhost", port),
            asyncio.open_unix_connection(str(tmp_path / "echo.sock")),
        ):
            reader, writer = await opened
            writer.write(b"ping\n")
            assert await reader.readline() == b"ping\n"
            writer.close()
            await writer.wait_closed()


def test_a_swallowed_refusal_still_fails_the_test(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (tmp_path / "test_sneaky.py").write_text(
        textwrap.dedent(
            """
            import socket

            def test_sneaky():
                try:
                    socket.create_connection(("192.0.2.11", 80), timeout=1)
                except OSError:
                    pass
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.infra.netguard", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "tried to leave loopback" in done.stdout
    assert "1 failed" in done.stdout
