"""Configuration of the SSH adapter; mirrors `SshSettings` in bot/settings.py field by field."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# curve25519 costs ~9 ms of CPU per handshake against ~68 ms for OpenSSH's default
# sntrup761x25519 (measured here); the rest of asyncssh's defaults follow.
FAST_KEX = "^curve25519-sha256,curve25519-sha256@libssh.org"


@dataclass(frozen=True, slots=True)
class SshConfig:
    """How the SSH adapter connects. The composition root builds it from `SshSettings`.

    `known_hosts` empty means ``~/.ssh/known_hosts`` (the composition root always names the
    service's own file). With `trust_on_first_use`, the key of a host with no entry yet is
    accepted and appended to that file; a host whose key differs from its entry is always
    refused. Keys come from the credential store or `client_keys`, never from ``~/.ssh/id_*``
    or an ssh-agent: a step runs with the service's identity whoever started or approved it.
    """

    username: str = "opsconductor"
    port: int = 22
    known_hosts: str = ""
    trust_on_first_use: bool = False
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 60.0
    max_concurrency: int = 200
    idle_timeout_s: float = 300.0
    max_output_bytes: int = 256 * 1024
    client_keys: tuple[str, ...] = ()
    max_sessions_per_connection: int = 8
    keepalive_interval_s: float = 30.0
    kex_algs: str = FAST_KEX
    stop_grace_s: float = 1.0  # after SIGTERM to a timed-out command's group, before SIGKILL
    stop_timeout_s: float = 4.0  # the whole stop (connect, TERM, KILL, confirm): then "uncertain"
    extra: dict[str, Any] = field(default_factory=dict)  # more asyncssh options, verbatim

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> SshConfig:
        """Copy the same-named fields of a settings section (duck-typed: no bot import)."""
        names = {f.name for f in fields(cls)}
        values = {n: getattr(settings, n) for n in names if hasattr(settings, n)}
        if "client_keys" in values:
            values["client_keys"] = tuple(values["client_keys"])
        values.update(overrides)
        return cls(**values)

    @property
    def known_hosts_path(self) -> Path:
        return Path(self.known_hosts).expanduser() if self.known_hosts else Path.home() / ".ssh/known_hosts"
