"""SSH adapter: `AsyncsshShell` implements `domains.automation.ports.RemoteShell` with asyncssh."""

from adapters.ssh.config import SshConfig
from adapters.ssh.hostkeys import HostKeyPolicy
from adapters.ssh.pool import ConnectionPool, PoolCounters, PoolKey
from adapters.ssh.shell import AsyncsshShell

__all__ = ["AsyncsshShell", "ConnectionPool", "HostKeyPolicy", "PoolCounters", "PoolKey", "SshConfig"]
