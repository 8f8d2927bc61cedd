"""`opsconductor hosts trust|forget`: the SSH host keys in the service's known_hosts file.

`trust` connects (the handshake only, no login), shows the key the host presents and records
it once the operator confirmed it: interactively, with `--fingerprint` (checked against the
host's own `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`), or with `--yes`. A key that
differs from the one on record is never replaced by `trust`: `forget` comes first, on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncssh

from adapters.ssh.hostkeys import HostKeyPolicy, fetch_host_key, host_pattern
from bot.logins import inventory_sessions
from bot.settings import Settings
from bot.wiring import known_hosts_file, ssh_config
from db.assets import SqlAssetRepository
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest, TargetUnreachable

Confirm = Callable[[str], bool]
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Presented:
    """The key a host presented: what `hosts trust` shows before recording it."""

    target: AssetRef
    port: int
    key: asyncssh.SSHKey

    @property
    def fingerprint(self) -> str:
        return str(self.key.get_fingerprint("sha256"))

    def line(self) -> str:
        where = f"{self.target.address} port {self.port}"
        named = f"{self.target.name} ({where})" if self.target.name != self.target.address else where
        return f"{named} presents {self.key.get_algorithm()} key {self.fingerprint}"


async def find_target(settings: Settings, host: str) -> AssetRef:
    """The inventory asset named `host` (or at that address); an address not in it as it is."""
    async with inventory_sessions(settings) as sessions:
        assets = SqlAssetRepository(sessions)
        found = await assets.get(host)
        if found is None:
            found = next((a for a in await assets.snapshot() if a.address == host.strip()), None)
    return found or AssetRef.raw(host.strip())


async def presented_key(settings: Settings, target: AssetRef) -> Presented:
    ssh = ssh_config(settings)
    where = f"{target.address} port {ssh.port}"
    try:
        key = await fetch_host_key(
            target.address, ssh.port, timeout_s=ssh.connect_timeout_s, kex_algs=ssh.kex_algs
        )
    except TimeoutError as err:
        raise TargetUnreachable(f"no SSH answer from {where} within {ssh.connect_timeout_s:g} s") from err
    except (OSError, asyncssh.Error) as err:
        reason = getattr(err, "strerror", None) or getattr(err, "reason", None) or err
        raise TargetUnreachable(f"cannot reach SSH on {where}: {reason}") from err
    return Presented(target, ssh.port, key)


async def trust_host(
    settings: Settings, host: str, fingerprint: str | None, confirm: Confirm, say: Say
) -> None:
    """Show the host key of `host` and record it once confirmed (`say` prints each line)."""
    presented = await presented_key(settings, await find_target(settings, host))
    policy = HostKeyPolicy(known_hosts_file(settings))
    address, port = presented.target.address, presented.port
    on_record = policy.recorded(address, port)
    if on_record and not any(key.public_data == presented.key.public_data for key in on_record):
        raise InvalidRequest(
            f"{presented.line()}, but {policy.path} holds another key for {host_pattern(address, port)}: "
            f"if the host was reinstalled, run `opsconductor hosts forget {host}` first"
        )
    if fingerprint is not None and fingerprint.strip() != presented.fingerprint:
        raise InvalidRequest(f"{presented.line()}, not {fingerprint.strip()}: nothing recorded")
    say(presented.line())
    if on_record:
        say(f"already trusted in {policy.path}")
    elif fingerprint is None and not confirm(presented.line()):
        say("not trusted: nothing recorded")
    else:
        policy.record(address, port, presented.key)
        say(f"trusted: recorded in {policy.path}")


async def forget_host(settings: Settings, host: str) -> str:
    target = await find_target(settings, host)
    policy = HostKeyPolicy(known_hosts_file(settings))
    pattern = host_pattern(target.address, settings.ssh.port)
    removed = policy.forget(target.address, settings.ssh.port)
    if target.name != target.address:  # an entry an operator wrote by name
        removed += policy.forget(target.name, settings.ssh.port)
    if not removed:
        raise InvalidRequest(f"{policy.path} holds no key for {pattern}")
    return f"forgot {removed} key{'s' if removed > 1 else ''} of {pattern} in {policy.path}"
