"""Credentials from a CredentialSource (the encrypted store's port) override the settings' defaults."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from adapters.ssh import AsyncsshShell, SshConfig
from domains.automation.ports import HostCredential
from pipeline.contracts import AssetRef
from pipeline.errors import TargetUnreachable
from tests.integration.sshd_fixtures import SSH_HOSTS
from tests.integration.sshd_testbed import SshdTestbed

pytestmark = pytest.mark.sshd


class StoreStandIn:
    """Plays the credential store: a fixed credential per asset name."""

    def __init__(self, credentials: dict[str, HostCredential]) -> None:
        self.credentials = credentials
        self.asked: list[str] = []

    async def get(self, asset: AssetRef) -> HostCredential | None:
        self.asked.append(asset.name)
        return self.credentials.get(asset.name)


def _key_text(bed: SshdTestbed) -> SecretStr:
    return SecretStr(bed.client_key.read_text())


async def test_private_key_from_the_store(
    ssh_config: Callable[..., SshConfig], in_testbed: SshdTestbed
) -> None:
    store = StoreStandIn({"db-01": HostCredential(username="root", private_key=_key_text(in_testbed))})
    shell = AsyncsshShell(ssh_config(client_keys=(), username="nobody-by-default"), credentials=store)
    try:
        result = await shell.run(AssetRef(name="db-01", address=SSH_HOSTS[4]), "id -un")
    finally:
        await shell.close()
    assert result.stdout == "root\n" and store.asked == ["db-01"]


async def test_rejected_login_is_unreachable(
    ssh_config: Callable[..., SshConfig], in_testbed: SshdTestbed
) -> None:
    store = StoreStandIn({"db-02": HostCredential(username="daemon", private_key=_key_text(in_testbed))})
    shell = AsyncsshShell(ssh_config(), credentials=store)
    try:
        with pytest.raises(TargetUnreachable, match=re.escape("login as daemon on 127.0.0.6 was refused")):
            await shell.run(AssetRef(name="db-02", address=SSH_HOSTS[5]), "true")
    finally:
        await shell.close()


def test_credential_repr_hides_secrets() -> None:
    credential = HostCredential(username="ops", password=SecretStr("hunter2"))
    assert "hunter2" not in repr(credential) and "hunter2" not in str(credential)
