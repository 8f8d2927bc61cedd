"""Hole 9 through the real `opsconductor` command: hostile inventories, private files,
a lost credential key and a read-only home each end in one clear line, never a traceback,
never a silently created key."""

from __future__ import annotations

import asyncio
import base64
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from bot import preflight
from db.assets import SqlAssetRepository
from db.engine import create_engine, session_factory
from domains.assets.credentials import CredentialCipher
from tests.security.serve import Serve, base_env, run_once

pytestmark = pytest.mark.timeout(120)


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        name, prev = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines.append(f"assets: [{{name: x, address: 127.0.0.9, tags: {{t: *{chr(97 + levels)}}}}}]")
    return "\n".join(lines) + "\n"


def test_assets_import_refuses_alias_bombs_and_oversized_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = base_env(home)
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(billion_laughs())  # 9^10 ~ 3.5e9 strings once expanded; under 1 KiB here
    done = run_once(env, "assets", "import", str(bomb))
    assert done.returncode == 1
    assert "laughs.yaml: refused: the aliases expand to more than" in one_error_line(done.stderr)
    big = tmp_path / "big.yaml"
    big.write_text("assets:\n" + "  # padding\n" * 1_000_000)  # 12 MB of comments
    done = run_once(env, "assets", "import", str(big))
    assert done.returncode == 1
    assert "big.yaml: larger than the 10 MiB limit" in one_error_line(done.stderr)
    fine = tmp_path / "anchors.yaml"
    fine.write_text(
        "defaults: &lab {type: web_server, os: linux, environment: lab}\n"
        "assets:\n"
        "  - {<<: *lab, name: lab-01, address: 127.0.0.11}\n"
        "  - {<<: *lab, name: lab-02, address: 127.0.0.12}\n"
    )
    done = run_once(env, "assets", "import", str(fine))  # a few aliases are fine
    assert done.returncode == 0, done.stderr


def test_a_policy_file_with_an_alias_bomb_is_refused_in_one_line(tmp_path: Path) -> None:
    bomb = tmp_path / "policy.yaml"
    bomb.write_text(billion_laughs().replace("assets: [", "roles: ["))
    done = run_once(base_env(tmp_path / "home", security__policy_file=str(bomb)), "ask", "help")
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert f"{bomb}: refused: the aliases expand to more than 250,000 values" in line


def test_home_and_state_files_are_private_even_when_they_were_not(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    assert run_once(base_env(home), "ask", "help").returncode == 0
    for name in ("opsconductor.db", "credential.key"):
        assert mode(home / name) == 0o600, name
    for path, loose in ((home, 0o755), (home / "opsconductor.db", 0o644), (home / "credential.key", 0o644)):
        os.chmod(path, loose)
    for name in ("opsconductor.db-wal", "opsconductor.db-shm"):
        (home / name).write_bytes(b"")
        os.chmod(home / name, 0o644)
    serve = Serve(base_env(home), tmp_path / "serve.log").start()  # a long-lived process: WAL in use
    try:
        assert mode(home) == 0o700
        for name in ("opsconductor.db", "opsconductor.db-wal", "opsconductor.db-shm", "credential.key"):
            assert mode(home / name) == 0o600, name
    finally:
        serve.stop()


def test_a_fresh_database_and_its_wal_are_created_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    serve = Serve(base_env(home), tmp_path / "serve.log").start()
    try:
        assert mode(home) == 0o700
        assert (home / "opsconductor.db-wal").exists()
        for name in ("opsconductor.db", "opsconductor.db-wal", "opsconductor.db-shm", "credential.key"):
            assert mode(home / name) == 0o600, name
    finally:
        serve.stop()


def test_console_history_is_created_private(tmp_path: Path) -> None:
    history = tmp_path / "home" / "history"
    preflight.secure_home(history.parent)
    preflight.private_file(history)
    assert mode(history.parent) == 0o700 and mode(history) == 0o600
    os.chmod(history, 0o664)
    preflight.private_file(history)
    assert mode(history) == 0o600


async def store_a_credential(home: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{home / 'opsconductor.db'}")
    try:
        cipher = CredentialCipher.from_base64((home / "credential.key").read_text())
        repo = SqlAssetRepository(session_factory(engine), cipher)
        await repo.set_credential("localhost", "password", "root", "s3cret-pw")
    finally:
        await engine.dispose()


def test_a_lost_credential_key_fails_closed_and_no_new_key_is_made(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_once(base_env(home), "ask", "help").returncode == 0
    asyncio.run(store_a_credential(home))
    (home / "credential.key").unlink()
    for command in (("ask", "ping 127.0.0.1"), ("credentials", "rotate-key")):
        done = run_once(base_env(home), *command)
        assert done.returncode == 1
        line = one_error_line(done.stderr)
        assert f"the credential key file {home / 'credential.key'} is missing" in line
        assert "1 credentials" in line and "No new key was created" in line
        assert not (home / "credential.key").exists()
    other = base64.b64encode(os.urandom(32)).decode()
    done = run_once(base_env(home, security__credential_key=other), "ask", "ping 127.0.0.1")
    assert done.returncode == 1
    assert "is not the one the 1 stored credentials were sealed with" in one_error_line(done.stderr)
    db = sqlite3.connect(home / "opsconductor.db")
    try:
        assert db.execute("select count(*) from execution_steps").fetchone() == (0,)  # nothing ran
    finally:
        db.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a private read-only bind mount")
def test_a_read_only_home_is_one_line(tmp_path: Path) -> None:
    """Root ignores file modes, so the parent is bind-mounted read-only in a private mount namespace."""
    parent = tmp_path / "ro"
    parent.mkdir()
    home = parent / "opsconductor"  # the first run would create it
    mount = f'mount --bind {parent} {parent} && mount -o remount,bind,ro {parent} && exec "$@"'
    prefix = ["unshare", "-m", "sh", "-c", mount, "sh"]
    for command in (("ask", "ping 127.0.0.1"), ("assets", "import", str(tmp_path / "x.yaml"))):
        done = run_once(base_env(home), *command, prefix=prefix)
        assert done.returncode == 1
        line = one_error_line(done.stderr)
        assert f"cannot write to {home}" in line and "read-only file system" in line
