"""known_hosts: strict by default, trust on first use only when configured, never on a mismatch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import asyncssh
import pytest

from adapters.ssh import AsyncsshShell, SshConfig
from pipeline.contracts import AssetRef
from pipeline.errors import TargetUnreachable
from tests.integration.sshd_fixtures import SSH_HOSTS
from tests.integration.sshd_testbed import SshdTestbed

pytestmark = pytest.mark.sshd

HOST = AssetRef(name="web-02", address=SSH_HOSTS[1])


async def _run(config: SshConfig) -> str:
    shell = AsyncsshShell(config)
    try:
        return (await shell.run(HOST, "echo ok")).stdout
    finally:
        await shell.close()


async def test_strict_refuses_unknown_host(ssh_config: Callable[..., SshConfig], tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(TargetUnreachable, match=r"is not in .* checked strictly"):
        await _run(ssh_config(known_hosts=str(empty)))
    assert empty.read_text() == ""


async def test_strict_refuses_changed_key(ssh_config: Callable[..., SshConfig], tmp_path: Path) -> None:
    foreign = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    wrong = " ".join(foreign.split()[:2])
    known = tmp_path / "known_hosts"
    known.write_text(f"{HOST.address} {wrong}\n")
    for tofu in (False, True):
        with pytest.raises(TargetUnreachable, match="does not match its entry"):
            await _run(ssh_config(known_hosts=str(known), trust_on_first_use=tofu))
    assert known.read_text() == f"{HOST.address} {wrong}\n"


async def test_trust_on_first_use_records_the_key(
    ssh_config: Callable[..., SshConfig], tmp_path: Path, in_testbed: SshdTestbed
) -> None:
    known = tmp_path / "tofu" / "known_hosts"
    assert await _run(ssh_config(known_hosts=str(known), trust_on_first_use=True)) == "ok\n"
    assert known.read_text() == f"{HOST.address} {in_testbed.host_public_key()}\n"
    # Recorded: a strict client now accepts the host.
    assert await _run(ssh_config(known_hosts=str(known))) == "ok\n"
