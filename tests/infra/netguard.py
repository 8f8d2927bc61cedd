"""Network guard for the test suite: nothing leaves the machine.

While installed, connecting (``connect``, ``connect_ex``), sending a datagram
(``sendto``) or resolving a name (``getaddrinfo``) is refused for any destination
other than loopback (127.0.0.0/8, ::1, ::ffff:127.x), the unspecified address (which
Linux routes to the local host), ``localhost`` names and non-IP families (AF_UNIX,
netlink). The refusal happens in Python before the system call, so no packet is
sent. Each refusal is also recorded, and the pytest hooks below fail the test even
when the code under test swallows the exception.

Servers in network namespaces a test creates are reached from subprocesses
(``ip netns exec``), which this in-process guard does not see.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NonLoopbackConnection(PermissionError):
    """A test tried to reach an address outside loopback; refused before any packet left."""


_lock = threading.Lock()
_violations: list[str] = []
_originals: dict[str, Any] = {}
_permitted: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []


def _is_local_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in LOCAL_NAMES or host.endswith(".localhost") or host == socket.gethostname().lower()


def host_allowed(host: object) -> bool:
    """True for loopback/unspecified IP literals and local host names."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host == "":
        return True
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return _is_local_name(host)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified or any(ip in net for net in _permitted)


def lookup_allowed(host: object) -> bool:
    """Whether resolving `host` stays on this machine: IP literals and local names do."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str) or host == "":
        return host is None or host == ""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return _is_local_name(host)
    return True


def address_allowed(family: int, address: object) -> bool:
    """Whether a socket of `family` may connect/send to `address`."""
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True
    if not isinstance(address, tuple) or not address:
        return False
    return host_allowed(address[0])


def _refuse(what: str) -> str:
    message = f"network guard: refused {what} (tests may only reach loopback)"
    with _lock:
        _violations.append(what)
    return message


def _check(sock: socket.socket, op: str, address: object) -> None:
    if not address_allowed(sock.family, address):
        raise NonLoopbackConnection(_refuse(f"{op} to {address!r}"))


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(self, "connect", address)
    _originals["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, "connect_ex", address)
    result: int = _originals["connect_ex"](self, address)
    return result


def _guarded_sendto(self: socket.socket, data: Any, *args: Any) -> int:
    if args:
        _check(self, "sendto", args[-1])
    result: int = _originals["sendto"](self, data, *args)
    return result


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not lookup_allowed(host):
        _refuse(f"name lookup of {host!r}")
        raise socket.gaierror(socket.EAI_NONAME, f"network guard: refused name lookup of {host!r}")
    return _originals["getaddrinfo"](host, *args, **kwargs)


_PATCHES: dict[str, tuple[Any, str, Callable[..., Any]]] = {
    "connect": (socket.socket, "connect", _guarded_connect),
    "connect_ex": (socket.socket, "connect_ex", _guarded_connect_ex),
    "sendto": (socket.socket, "sendto", _guarded_sendto),
    "getaddrinfo": (socket, "getaddrinfo", _guarded_getaddrinfo),
}


def install() -> None:
    """Patch the socket module (idempotent)."""
    for key, (owner, name, replacement) in _PATCHES.items():
        if key not in _originals:
            _originals[key] = getattr(owner, name)
            setattr(owner, name, replacement)


def uninstall() -> None:
    for key, (owner, name, _replacement) in _PATCHES.items():
        if key in _originals:
            setattr(owner, name, _originals.pop(key))


@contextlib.contextmanager
def permit(*networks: str) -> Iterator[None]:
    """Allow `networks` (CIDR) inside the block.

    Only for addresses that exist solely inside a network namespace the test itself
    created (a veth peer, a blackhole route); never for anything routed off this machine.
    """
    added = [ipaddress.ip_network(net) for net in networks]
    with _lock:
        _permitted.extend(added)
    try:
        yield
    finally:
        with _lock:
            for net in added:
                _permitted.remove(net)


def take_violations() -> list[str]:
    """Return and forget the refusals recorded so far."""
    with _lock:
        taken = list(_violations)
        _violations.clear()
    return taken


@contextlib.contextmanager
def expect_refusals() -> Iterator[list[str]]:
    """For tests of the guard itself: collect the refusals made inside, instead of failing."""
    before = take_violations()
    collected: list[str] = []
    try:
        yield collected
    finally:
        collected.extend(take_violations())
        with _lock:
            _violations[:0] = before


def _fail_on_refusals(phase: str) -> Generator[None, Any, Any]:
    take_violations()
    try:
        return (yield)
    finally:
        refused = take_violations()
        if refused:
            listed = "\n  ".join(refused)
            pytest.fail(f"network guard: {phase} tried to leave loopback:\n  {listed}", pytrace=False)


# pytest hooks: re-exported by tests/conftest.py, or loaded with `-p tests.infra.netguard`.


def pytest_configure(config: pytest.Config) -> None:
    install()


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _fail_on_refusals("setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _fail_on_refusals("test"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    return (yield from _fail_on_refusals("teardown"))
