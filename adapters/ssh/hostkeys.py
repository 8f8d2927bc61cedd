"""known_hosts verification: strict by default, trust-on-first-use only when configured.

The file is parsed once and again only when it changes on disk. With trust on first
use, the key of a host that has no entry at all is accepted and appended to the file;
a host whose key differs from its entry is refused in both modes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
from pathlib import Path
from typing import Any

import asyncssh

log = logging.getLogger(__name__)

HostKeys = tuple[list[Any], list[Any], list[Any]]


def host_pattern(host: str, port: int | None) -> str:
    """The known_hosts host field: ``host`` on port 22, ``[host]:port`` elsewhere."""
    return host if port in (None, 22) else f"[{host}]:{port}"


class HostKeyPolicy:
    """Answers asyncssh's known_hosts lookups and decides on unknown keys."""

    def __init__(self, path: Path, *, trust_on_first_use: bool = False) -> None:
        self.path = path
        self.trust_on_first_use = trust_on_first_use
        self._db = asyncssh.import_known_hosts("")
        self._stamp: tuple[int, int] | None = None
        self._accepted: dict[tuple[str, int | None], asyncssh.SSHKey] = {}
        self._matches: dict[tuple[str, str, int | None], HostKeys] = {}

    def __call__(self, host: str, addr: str, port: int | None) -> HostKeys:
        """asyncssh's `known_hosts` callable: trusted keys, CA keys, revoked keys."""
        self._refresh()
        cached = self._matches.get((host, addr, port))
        if cached is None:  # matching scans every pattern: ~0.5 ms for a few hundred entries
            keys, ca_keys, revoked, *_ = self._db.match(host, addr, port)
            cached = self._matches[(host, addr, port)] = (list(keys), list(ca_keys), list(revoked))
        accepted = self._accepted.get((host, port))
        keys = [*cached[0], accepted] if accepted else list(cached[0])
        return keys, list(cached[1]), list(cached[2])

    def has_entry(self, host: str, port: int | None) -> bool:
        keys, ca_keys, _ = self(host, host, None if port == 22 else port)
        return bool(keys or ca_keys)

    def accept_new(self, host: str, port: int | None, key: asyncssh.SSHKey) -> bool:
        """Called for a key not on record: True (and recorded) only under TOFU for a new host."""
        port = None if port == 22 else port
        if not self.trust_on_first_use or self.has_entry(host, port):
            return False
        self._append(host, port, key)
        log.warning(
            "trusting new host key for %s (%s) on first use", host_pattern(host, port), key.get_fingerprint()
        )
        return True

    def recorded(self, host: str, port: int | None) -> list[asyncssh.SSHKey]:
        """The keys on record for `host` (``opsconductor hosts trust`` compares with them)."""
        return self(host, host, None if port == 22 else port)[0]

    def record(self, host: str, port: int | None, key: asyncssh.SSHKey) -> None:
        """Append `key` as the host key of `host` (the operator checked its fingerprint)."""
        self._append(host, None if port == 22 else port, key)

    def forget(self, host: str, port: int | None) -> int:
        """Remove every entry naming exactly `host` (plain or hashed); how many lines went."""
        pattern = host_pattern(host, port)
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        except FileNotFoundError:
            return 0
        kept = [line for line in lines if not _names(line, pattern)]
        if len(kept) != len(lines):
            temp = self.path.with_name(f".{self.path.name}.new")
            temp.write_text("".join(kept), encoding="utf-8")
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        return len(lines) - len(kept)

    def _append(self, host: str, port: int | None, key: asyncssh.SSHKey) -> None:
        algorithm, blob = key.export_public_key().decode().split()[:2]
        line = f"{host_pattern(host, port)} {algorithm} {blob}"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not self.path.exists()
        with self.path.open("a", encoding="ascii") as handle:
            handle.write(line + "\n")
        if fresh:
            os.chmod(self.path, 0o600)
        self._accepted[(host, port)] = key
        self._stamp = self._stat()  # our own append: no need to parse the file again

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def _refresh(self) -> None:
        stamp = self._stat()
        if stamp == self._stamp:
            return
        text = self.path.read_text(encoding="utf-8", errors="replace") if stamp else ""
        self._db = asyncssh.import_known_hosts(text)
        self._matches.clear()
        self._accepted.clear()
        self._stamp = stamp


def _names(line: str, pattern: str) -> bool:
    """Whether a known_hosts line's host field names `pattern` (``|1|salt|hash`` entries too)."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return False
    hosts = fields[1] if fields[0].startswith("@") and len(fields) > 1 else fields[0]
    for entry in hosts.split(","):
        if entry.startswith("|1|"):
            salt, _, digest = entry[3:].partition("|")
            mac = hmac.new(base64.b64decode(salt), pattern.encode(), hashlib.sha1).digest()
            if hmac.compare_digest(base64.b64encode(mac).decode(), digest):
                return True
        elif entry == pattern:
            return True
    return False


async def fetch_host_key(address: str, port: int, *, timeout_s: float, kex_algs: str) -> asyncssh.SSHKey:
    """The host key `address` presents in the SSH handshake (no login); OSError/asyncssh errors."""
    async with asyncio.timeout(timeout_s):
        key = await asyncssh.get_server_host_key(address, port, kex_algs=kex_algs, config=None)
    if key is None:  # pragma: no cover - only key exchanges without a host key (GSS) give none
        raise asyncssh.KeyExchangeFailed("the server presented no host key")
    return key
