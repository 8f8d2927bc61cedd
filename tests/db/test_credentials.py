"""SqlCredentialStore on SQLite and PostgreSQL: logins by scope (host > tag > default), listed
without secrets, deleted by scope, and re-encrypted together on key rotation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.assets import SqlAssetRepository
from db.credentials import SqlCredentialStore
from db.models import AssetCredential, ScopedCredential
from domains.assets.credential_scope import CredentialScope
from domains.assets.credentials import CredentialCipher, CredentialError
from domains.assets.importer import load_inventory
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest, UnknownTarget

Sessions = async_sessionmaker[AsyncSession]
INVENTORY = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "inventory.yaml"
DEFAULT = CredentialScope("default")
PROD = CredentialScope.tag("team=storefront")


@pytest.fixture
async def store(sessions: Sessions) -> SqlCredentialStore:
    cipher = CredentialCipher.generate()
    await SqlAssetRepository(sessions, cipher).import_assets(load_inventory(INVENTORY))
    return SqlCredentialStore(sessions, cipher)


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """An ed25519 private key's text and the fingerprint ssh-keygen gives it."""
    path = tmp_path_factory.mktemp("key") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    shown = subprocess.run(["ssh-keygen", "-lf", str(path)], check=True, capture_output=True, text=True)
    return path.read_text(), shown.stdout.split()[1]


async def web(store: SqlCredentialStore, name: str) -> AssetRef:
    found = await SqlAssetRepository(store._sessions).get(name)
    assert found is not None
    return found


async def test_the_most_specific_scope_logs_in(store: SqlCredentialStore) -> None:
    await store.set(DEFAULT, "password", "ops-default", "pw-default")
    await store.set(PROD, "password", "ops-tag", "pw-tag")
    await store.set(await store.host_scope("web-02"), "password", "ops-host", "pw-host")

    chosen = {}
    for name in ("web-01", "web-02", "db-01"):
        found = await store.resolve(await web(store, name))
        assert found is not None
        chosen[name] = (found.username, found.secret.get_secret_value())
    assert chosen == {
        "web-01": ("ops-tag", "pw-tag"),  # tag team=storefront
        "web-02": ("ops-host", "pw-host"),  # its own
        "db-01": ("ops-default", "pw-default"),  # no tag matches
    }
    raw = await store.resolve(AssetRef.raw("127.0.0.9"))  # not in the inventory: the default only
    assert raw is not None and raw.username == "ops-default"


async def test_a_key_beats_a_password_in_one_scope_and_windows_takes_winrm(
    store: SqlCredentialStore, key_file: tuple[str, str]
) -> None:
    await store.set(DEFAULT, "password", "ops", "pw")
    await store.set(DEFAULT, "ssh_key", "ops", key_file[0])
    found = await store.resolve(await web(store, "web-01"))
    assert found is not None and found.kind == "ssh_key"
    assert await store.resolve(await web(store, "win-app-01")) is None  # no winrm login stored
    await store.set(DEFAULT, "winrm", "OPS\\svc", "pw-win")
    windows = await store.resolve(await web(store, "win-app-01"))
    assert windows is not None and (windows.kind, windows.username) == ("winrm", "OPS\\svc")


async def test_listing_shows_scope_user_kind_and_fingerprint_never_the_secret(
    store: SqlCredentialStore, key_file: tuple[str, str]
) -> None:
    await store.set(await store.host_scope("192.0.2.11"), "ssh_key", "ops", key_file[0])  # by address
    await store.set(PROD, "password", "ops-tag", "pw-tag")
    logins = await store.logins()
    assert [(x.scope.label, x.username, x.kind, x.fingerprint) for x in logins] == [
        ("host web-01", "ops", "ssh_key", key_file[1]),
        ("tag team=storefront", "ops-tag", "password", ""),
    ]
    assert "pw-tag" not in repr(logins) and "PRIVATE" not in repr(logins)


async def test_delete_by_scope_and_unknown_hosts(store: SqlCredentialStore, sessions: Sessions) -> None:
    host = await store.host_scope("web-01")
    await store.set(host, "password", "a", "pw")
    await store.set(host, "ssh_key", "a", "not checked here")
    await store.set(PROD, "password", "b", "pw")
    assert await store.delete(host, "password") == 1
    assert await store.delete(host) == 1
    assert await store.delete(PROD) == 1 and await store.delete(PROD) == 0
    async with sessions() as session:
        assert list(await session.scalars(select(AssetCredential))) == []
        assert list(await session.scalars(select(ScopedCredential))) == []
    with pytest.raises(UnknownTarget):
        await store.host_scope("ghost-01")
    with pytest.raises(InvalidRequest, match="KEY=VALUE"):
        CredentialScope.tag("production")


async def test_rotation_re_encrypts_every_row_of_every_scope(
    store: SqlCredentialStore, sessions: Sessions
) -> None:
    old = store.cipher
    assert old is not None
    await store.set(await store.host_scope("web-01"), "password", "root", "s3cret")
    await store.set(PROD, "password", "ops", "tag-secret")
    await store.set(DEFAULT, "winrm", "ops", "default-secret")
    assert await store.key_ids() == {old.key_id: 3}
    new = CredentialCipher.generate()
    assert await store.rotate(new) == 3
    assert await store.rotate(new) == 0  # rerun is a no-op
    assert await store.key_ids() == {new.key_id: 3}
    found = await SqlCredentialStore(sessions, new).resolve(await web(store, "web-02"))
    assert found is not None and found.secret.get_secret_value() == "tag-secret"
    with pytest.raises(CredentialError):
        await SqlCredentialStore(sessions, old).resolve(await web(store, "web-01"))
    async with sessions() as session:
        rows = [
            *await session.scalars(select(AssetCredential)),
            *await session.scalars(select(ScopedCredential)),
        ]
    assert {r.key_id for r in rows} == {new.key_id} and all(r.rotated_at for r in rows)


async def test_a_sealed_secret_is_bound_to_its_scope(store: SqlCredentialStore, sessions: Sessions) -> None:
    await store.set(PROD, "password", "ops", "tag-secret")
    async with sessions.begin() as session:
        row = (await session.scalars(select(ScopedCredential))).one()
        row.value = "team=data"  # moved to another tag by someone with database access
    with pytest.raises(CredentialError, match="does not decrypt"):
        await store.resolve(await web(store, "db-01"))
