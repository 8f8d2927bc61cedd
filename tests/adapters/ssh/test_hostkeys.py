"""known_hosts: strict by default, trust on first use only when configured, never on a mismatch."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncssh
import pytest

from adapters.ssh import AsyncsshShell, HostKeyPolicy, SshConfig
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


def test_forget_removes_plain_and_hashed_entries_of_exactly_that_host(tmp_path: Path) -> None:
    """Hashed lines as OpenSSH writes them (`ssh-keygen -H`, HashKnownHosts yes) are found too."""
    key = " ".join(asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().split()[:2])
    known = tmp_path / "known_hosts"
    known.write_text(f"10.0.0.1 {key}\n[10.0.0.1]:2222 {key}\n10.0.0.10 {key}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(known)], check=True, capture_output=True)
    assert "10.0.0.1 " not in known.read_text()  # every host field is hashed now
    known.write_text(known.read_text() + f"web-01,10.0.0.1 {key}\n# 10.0.0.1 a comment stays\n")
    policy = HostKeyPolicy(known)
    assert policy.forget("10.0.0.1", 22) == 2  # the hashed line and the plain "web-01,10.0.0.1" one
    assert policy.forget("10.0.0.1", 22) == 0
    assert policy.recorded("10.0.0.1", 22) == []
    assert [k.public_data for k in policy.recorded("10.0.0.1", 2222)] == [
        asyncssh.import_public_key(key).public_data
    ]
    assert len(policy.recorded("10.0.0.10", 22)) == 1
    assert "a comment stays" in known.read_text() and oct(known.stat().st_mode & 0o777) == "0o600"


@pytest.fixture
def someones_ssh(in_testbed: SshdTestbed, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A person's HOME whose ~/.ssh key, config and running ssh-agent could all log in to the host."""
    home = tmp_path / "someone"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(in_testbed.client_key, home / ".ssh" / "id_ed25519")
    (home / ".ssh" / "config").write_text("Host *\n  User root\n  IdentityFile ~/.ssh/id_ed25519\n")
    agent = subprocess.run(["ssh-agent", "-s"], check=True, capture_output=True, text=True).stdout
    env = dict(re.findall(r"(SSH_AUTH_SOCK|SSH_AGENT_PID)=([^;]+);", agent))
    try:
        subprocess.run(["ssh-add", str(in_testbed.client_key)], env={**os.environ, **env}, check=True)
        yield {"HOME": str(home), "SSH_AUTH_SOCK": env["SSH_AUTH_SOCK"]}
    finally:
        os.kill(int(env["SSH_AGENT_PID"]), signal.SIGTERM)


async def test_keys_and_agent_of_whoever_runs_the_process_are_never_used(
    ssh_config: Callable[..., SshConfig], someones_ssh: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 8: a person's ~/.ssh (keys, config) and ssh-agent play no part in a step's login."""
    for name, value in someones_ssh.items():
        monkeypatch.setenv(name, value)
    refused = "was refused: store the login with `opsconductor credentials set web-02"
    with pytest.raises(TargetUnreachable, match=refused):
        await _run(ssh_config(client_keys=()))
