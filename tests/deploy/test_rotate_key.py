"""`opsconductor credentials rotate-key`: every stored credential re-encrypted, readable under the new key."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from db.assets import SqlAssetRepository
from db.engine import create_engine, session_factory
from db.migrate import upgrade_engine
from domains.assets.credentials import CredentialCipher
from domains.assets.importer import seed_if_empty


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def store_secret(db_url: str, key: str) -> None:
    engine = create_engine(db_url)
    await upgrade_engine(engine)
    assets = SqlAssetRepository(session_factory(engine), CredentialCipher.from_base64(key))
    await seed_if_empty(assets)
    await assets.set_credential("localhost", "password", "ops", "s3cret-pass")
    await engine.dispose()


async def read_secret(db_url: str, key: str) -> str:
    engine = create_engine(db_url)
    assets = SqlAssetRepository(session_factory(engine), CredentialCipher.from_base64(key))
    try:
        credential = await assets.get_credential("localhost", "password")
    finally:
        await engine.dispose()
    assert credential is not None
    return credential.secret.get_secret_value()


def test_rotation_with_a_configured_key(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    old, new = new_key(), new_key()
    asyncio.run(store_secret(db_url, old))
    env = {"OPSCONDUCTOR_HOME": str(tmp_path), "OPSCONDUCTOR_DB__URL": db_url}
    result = CliRunner().invoke(
        cli,
        ["credentials", "rotate-key", "--new-key", new],
        env={**env, "OPSCONDUCTOR_SECURITY__CREDENTIAL_KEY": old},
    )
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 credentials" in result.output and new not in result.output
    assert asyncio.run(read_secret(db_url, new)) == "s3cret-pass"
    again = CliRunner().invoke(
        cli,
        ["credentials", "rotate-key", "--new-key", new],
        env={**env, "OPSCONDUCTOR_SECURITY__CREDENTIAL_KEY": new},
    )
    assert again.exit_code == 1 and "the new key is the current key" in again.output


def test_rotation_of_the_embedded_key_file(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'opsconductor.db'}"
    key_file = tmp_path / "credential.key"
    env = {"OPSCONDUCTOR_HOME": str(tmp_path)}
    first = CliRunner().invoke(cli, ["credentials", "rotate-key"], env=env)  # creates, then rotates the file
    assert first.exit_code == 0, first.output
    current = key_file.read_text().strip()
    asyncio.run(store_secret(db_url, current))
    second = CliRunner().invoke(cli, ["credentials", "rotate-key"], env=env)
    assert second.exit_code == 0 and "re-encrypted 1 credentials" in second.output
    assert "new key" not in second.output  # the key file holds it; nothing to show
    rotated = key_file.read_text().strip()
    assert rotated != current and asyncio.run(read_secret(db_url, rotated)) == "s3cret-pass"
