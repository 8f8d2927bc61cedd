"""Configuration of the WinRM adapter (bot/settings.py has no WinRM section yet: see WinrmConfig)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from pydantic import SecretStr


@dataclass(frozen=True, slots=True)
class WinrmConfig:
    """How the WinRM adapter connects; per-host credentials come from the CredentialSource.

    `operation_timeout_s` is how long one WS-Management Receive may wait on the server,
    so a command's own timeout is honoured to within that much. `proxy` None ignores
    proxy environment variables (pywinrm would otherwise honour them).
    """

    username: str = ""
    password: SecretStr | None = None
    scheme: Literal["http", "https"] = "http"
    port: int = 5985
    transport: Literal["ntlm", "kerberos", "basic", "plaintext", "credssp", "certificate"] = "ntlm"
    server_cert_validation: Literal["validate", "ignore"] = "validate"
    operation_timeout_s: int = 20
    connect_timeout_s: float = 10.0
    command_timeout_s: float = 60.0
    max_concurrency: int = 32
    max_output_bytes: int = 256 * 1024
    codepage: int = 65001
    stop_timeout_s: float = 10.0  # stopping a timed-out script's process tree: then "uncertain"
    proxy: str | None = None
    ca_trust_path: str | None = None  # a CA bundle for https; None: the system's, never env vars

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> WinrmConfig:
        names = {f.name for f in fields(cls)}
        values = {n: getattr(settings, n) for n in names if hasattr(settings, n)}
        values.update(overrides)
        return cls(**values)

    def endpoint(self, address: str) -> str:
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}/wsman"
