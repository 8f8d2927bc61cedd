"""SqlAssetRepository on SQLite and PostgreSQL: CRUD with validation, snapshot cache, import
atomicity, relationships and encrypted credentials (rotation: test_credentials.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.assets import SqlAssetRepository
from db.models import AssetCredential
from domains.assets.credentials import CredentialCipher, CredentialError
from domains.assets.importer import demo_inventory, import_file, load_inventory, seed_if_empty
from pipeline.contracts import AssetFilter, AssetRef
from pipeline.errors import InvalidRequest, UnknownTarget

Sessions = async_sessionmaker[AsyncSession]
INVENTORY = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "inventory.yaml"
SECRET = "s3cret-pa55"


@pytest.fixture
def repo(sessions: Sessions) -> SqlAssetRepository:
    return SqlAssetRepository(sessions, cipher=CredentialCipher.generate())


@pytest.fixture
async def inventory(repo: SqlAssetRepository) -> SqlAssetRepository:
    await repo.import_assets(load_inventory(INVENTORY))
    return repo


async def test_query_uses_the_shared_selection_rule(inventory: SqlAssetRepository) -> None:
    found = await inventory.query(AssetFilter(types=("servers",), environments=("staging",)))
    assert [a.name for a in found] == ["api-stg-01", "db-stg-01", "web-04", "win-stg-01"]
    web = await inventory.get("WEB-01")
    assert web is not None and web.tags == {"role": "web", "team": "storefront"}
    assert web.services == ("nginx",)


async def test_create_update_delete(repo: SqlAssetRepository) -> None:
    created = await repo.create(AssetRef(name="Web-09", address="127.0.0.9", type="web_server"))
    assert created.name == "web-09"
    with pytest.raises(InvalidRequest, match="already exists"):
        await repo.create(AssetRef(name="web-09", address="127.0.0.10"))
    with pytest.raises(InvalidRequest, match="address"):
        await repo.create(AssetRef(name="web-10", address="no such thing"))
    updated = await repo.update("web-09", {"environment": "staging", "tags": {"team": "ops"}, "os": None})
    assert (updated.environment, updated.tags, updated.os) == ("staging", {"team": "ops"}, "linux")
    assert await repo.get("web-09") == updated
    with pytest.raises(InvalidRequest, match="cannot change name"):
        await repo.update("web-09", {"name": "x"})
    with pytest.raises(InvalidRequest, match="services"):
        await repo.update("web-09", {"services": 5})
    with pytest.raises(UnknownTarget):
        await repo.update("nope", {"os": "windows"})
    assert await repo.delete("web-09")
    assert not await repo.delete("web-09")
    assert await repo.snapshot() == ()


async def test_snapshot_is_cached_until_this_instance_writes(sessions: Sessions) -> None:
    mine, other = SqlAssetRepository(sessions), SqlAssetRepository(sessions, ttl_s=0)
    assert await mine.snapshot() == ()
    await other.create(AssetRef(name="a1", address="127.0.0.1"))
    assert await mine.snapshot() == ()  # cached: another writer is seen after ttl_s
    assert [a.name for a in await other.snapshot()] == ["a1"]
    await mine.create(AssetRef(name="a2", address="127.0.0.2"))
    assert [a.name for a in await mine.snapshot()] == ["a1", "a2"]


async def test_an_unchanged_table_keeps_the_same_snapshot(sessions: Sessions) -> None:
    """Indexes are built per snapshot object: re-reading an unchanged table must not replace it."""
    reader, writer = SqlAssetRepository(sessions, ttl_s=0), SqlAssetRepository(sessions)
    await writer.create(AssetRef(name="a1", address="127.0.0.1"))
    first = await reader.snapshot()
    assert await reader.snapshot() is first
    await writer.update("a1", {"os": "windows"})
    changed = await reader.snapshot()
    assert changed is not first and changed[0].os == "windows"
    await writer.delete("a1")
    await writer.create(AssetRef(name="a2", address="127.0.0.2"))
    assert [a.name for a in await reader.snapshot()] == ["a2"]


async def test_import_is_all_or_nothing(repo: SqlAssetRepository) -> None:
    await repo.create(AssetRef(name="web-02", address="127.0.0.2"))
    with pytest.raises(InvalidRequest, match="web-02; nothing was imported"):
        await repo.import_assets(load_inventory(INVENTORY))
    assert [a.name for a in await repo.snapshot()] == ["web-02"]
    assert await repo.import_assets(load_inventory(INVENTORY), replace=True) == 18
    web = await repo.get("web-02")
    assert web is not None and web.address == "192.0.2.12"


async def test_import_file_and_seed(repo: SqlAssetRepository, tmp_path: Path) -> None:
    assert await seed_if_empty(repo) == len(demo_inventory())
    assert await seed_if_empty(repo) == 0
    path = tmp_path / "inventory.csv"
    path.write_text("name,address,type,tags\nlocalhost,127.0.0.1,app_server,role=x\nnew-1,127.0.0.8,,\n")
    assert await import_file(repo, path) == 2
    local = await repo.get("localhost")
    assert local is not None and local.tags == {"role": "x"}


async def test_relationships(inventory: SqlAssetRepository) -> None:
    await inventory.relate("web-01", "depends_on", "api-01")
    await inventory.relate("web-01", "depends_on", "api-01")
    await inventory.relate("api-01", "depends_on", "db-01")
    assert await inventory.relationships("api-01") == [
        ("api-01", "depends_on", "db-01"),
        ("web-01", "depends_on", "api-01"),
    ]
    with pytest.raises(InvalidRequest, match="unknown"):
        await inventory.relate("web-01", "likes", "db-01")
    with pytest.raises(InvalidRequest, match="itself"):
        await inventory.relate("web-01", "depends_on", "web-01")
    with pytest.raises(UnknownTarget):
        await inventory.relate("web-01", "depends_on", "ghost")
    assert await inventory.unrelate("web-01", "depends_on", "api-01")
    await inventory.delete("db-01")
    assert await inventory.relationships() == []


async def test_credentials_are_encrypted_at_rest(inventory: SqlAssetRepository, sessions: Sessions) -> None:
    await inventory.set_credential("web-01", "password", "root", SECRET)
    async with sessions() as session:
        row = (await session.scalars(select(AssetCredential))).one()
    assert SECRET.encode() not in row.ciphertext and row.key_id == inventory.cipher.key_id  # type: ignore[union-attr]
    credential = await inventory.get_credential("web-01", "password")
    assert credential is not None and credential.secret.get_secret_value() == SECRET
    assert SECRET not in repr(credential)
    assert await inventory.get_credential("web-01", "ssh_key") is None
    assert await inventory.get_credential("127.0.0.99", "password") is None  # raw address
    await inventory.set_credential("web-01", "password", "admin", "new-secret")
    replaced = await inventory.get_credential("web-01", "password")
    assert replaced is not None and (replaced.username, replaced.secret.get_secret_value()) == (
        "admin",
        "new-secret",
    )


async def test_wrong_key_cannot_read(inventory: SqlAssetRepository, sessions: Sessions) -> None:
    await inventory.set_credential("web-01", "password", "root", SECRET)
    stranger = SqlAssetRepository(sessions, cipher=CredentialCipher.generate())
    with pytest.raises(CredentialError):
        await stranger.get_credential("web-01", "password")
    with pytest.raises(CredentialError, match="no credential key"):
        await SqlAssetRepository(sessions).get_credential("web-01", "password")


async def test_credentials_go_with_the_asset(inventory: SqlAssetRepository, sessions: Sessions) -> None:
    await inventory.set_credential("web-01", "winrm", "admin", SECRET)
    await inventory.delete("web-01")
    async with sessions() as session:
        assert list(await session.scalars(select(AssetCredential))) == []
    with pytest.raises(UnknownTarget):
        await inventory.set_credential("web-01", "winrm", "admin", SECRET)
