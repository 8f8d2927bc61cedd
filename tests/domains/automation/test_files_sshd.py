"""fetch_file and write_file against a real OpenSSH sshd (SFTP, root login, real files).

The testbed's sshd shares this machine's file system, so the tests arrange files under their
tmp_path and look at them directly after the tools worked on them over SFTP.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from domains.automation.files import write_file_undo
from domains.automation.toolset import automation
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.errors import NotPermitted, ToolFailed
from pipeline.registry import Call, ToolContext
from tests.integration.sshd_fixtures import SSH_HOSTS
from tests.integration.sshd_testbed import SshdTestbed

pytestmark = pytest.mark.sshd

HOST = AssetRef(name="web-01", address=SSH_HOSTS[3], os="linux", type="web_server")
SPECS = {spec.name: spec for spec in automation.specs}


class DenyPaths:
    """The policy's path answer for one running step: the paths it names are denied."""

    def __init__(self, *denied: str) -> None:
        self.denied = set(denied)

    def check_path(self, path: str) -> None:
        if path in self.denied:
            raise NotPermitted(f"{path} is denied")

    def check_address(self, target: AssetRef, address: str) -> None:
        return None

    def check_target(self, target: AssetRef) -> None:
        return None

    def check_destination(self, address: str, what: str) -> None:
        return None


async def call(
    services: dict[type[Any], Any], name: str, *, check: bool = False, guard: Any = None, **raw: Any
) -> ToolOutput:
    spec = SPECS[name]
    ctx = ToolContext(execution_id="ex1", step_id="s1", services=services, check=check, guard=guard)
    func = spec.check if check and spec.check is not None else spec.func
    return await func(ctx, HOST, spec.parse_args(raw))


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def content(path: Path | str) -> bytes:
    return Path(path).read_bytes()


def text(path: Path | str) -> str:
    return Path(path).read_text()


def stat(path: Path | str) -> os.stat_result:
    return Path(path).stat()


def attributes(path: Path | str) -> tuple[int, int, int]:
    found = Path(path).stat()
    return found.st_mode & 0o7777, found.st_uid, found.st_gid


# --------------------------------------------------------------------------- fetch_file


async def test_fetch_keeps_the_file_and_shows_text(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source = tmp_path / "app.conf"
    source.write_text("listen 8080\nworkers 4\n")
    out = await call(services, "automation.fetch_file", path=str(source))
    assert out.data["bytes"] == stat(source).st_size and not out.data["truncated"]
    assert out.stdout == "listen 8080\nworkers 4\n"
    [saved] = out.files
    assert content(saved) == content(source)
    assert stat(saved).st_mode & 0o777 == 0o600  # the bot's copy is private
    assert str(tmp_path / "fetched") in saved


async def test_fetch_masks_credentials_in_the_attached_copy(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source = tmp_path / "db.conf"
    source.write_text("host = db-01\npassword = hunter2-very-secret\n")
    out = await call(services, "automation.fetch_file", path=str(source))
    kept = text(out.files[0])
    assert "hunter2-very-secret" not in kept and "host = db-01" in kept
    assert "hunter2-very-secret" not in out.stdout and out.data["redacted"]


async def test_fetch_caps_the_size(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    payload = bytes(range(256)) * 40  # 10240 bytes, binary
    source.write_bytes(payload)
    out = await call(services, "automation.fetch_file", path=str(source), max_bytes=1000)
    assert out.data["truncated"] and out.data["bytes"] == 1000 and out.data["size"] == len(payload)
    assert content(out.files[0]) == payload[:1000]
    assert out.stdout == ""  # binary content is attached, never printed
    assert "cut to the first" in out.summary


async def test_fetch_refuses_a_link_to_a_denied_file(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret\n")
    innocent = tmp_path / "notes.txt"
    innocent.symlink_to(secret)
    with pytest.raises(NotPermitted):
        await call(services, "automation.fetch_file", path=str(innocent), guard=DenyPaths(str(secret)))
    assert not (tmp_path / "fetched").exists()


async def test_fetch_of_a_directory_fails_plainly(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    with pytest.raises(ToolFailed, match="not a regular file"):
        await call(services, "automation.fetch_file", path=str(tmp_path))
    with pytest.raises(ToolFailed, match="no such file"):
        await call(services, "automation.fetch_file", path=str(tmp_path / "missing"))


# --------------------------------------------------------------------------- write_file


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "etc"
    folder.mkdir()
    target = folder / "limits.conf"
    target.write_text("max_connections = 100\nshared_buffers = 1GB\n")
    os.chown(target, 1234, 2345)
    target.chmod(0o640)
    return target


async def test_write_shows_the_diff_backs_up_and_keeps_mode_and_owner(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, config: Path
) -> None:
    before = content(config)
    old_inode = stat(config).st_ino
    reader = config.open("rb")  # a reader that opened the old file keeps reading the old file
    new = "max_connections = 200\nshared_buffers = 1GB\n"
    out = await call(services, "automation.write_file", path=str(config), content=new)
    assert text(config) == new
    assert "-max_connections = 100" in out.stdout and "+max_connections = 200" in out.stdout
    assert out.data["added"] == 1 and out.data["removed"] == 1
    assert attributes(config) == (0o640, 1234, 2345)
    assert stat(config).st_ino != old_inode  # replaced by a rename, not rewritten in place
    assert reader.read() == before
    reader.close()
    backup = Path(out.data["backup"])
    assert backup.parent == config.parent and backup.name.startswith("limits.conf.")
    assert backup.name.endswith("Z.bak")
    assert content(backup) == before
    assert attributes(backup) == (0o640, 1234, 2345)
    assert listing(config.parent) == sorted([config.name, backup.name])  # no temporary file left


async def test_write_applies_mode_and_owner_when_asked(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, config: Path
) -> None:
    out = await call(
        services, "automation.write_file", path=str(config), content="x = 1\n", mode="0600", owner="root:root"
    )
    assert attributes(config) == (0o600, 0, 0)
    assert out.data["mode"] == "0600"


async def test_check_shows_the_diff_and_changes_nothing(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, config: Path
) -> None:
    before = (content(config), stat(config).st_ino, stat(config).st_mtime_ns, listing(config.parent))
    out = await call(
        services,
        "automation.write_file",
        check=True,
        path=str(config),
        content="max_connections = 5\n",
        mode="0644",
    )
    assert out.data["check"] and out.data["changes"]
    assert "+max_connections = 5" in out.stdout and "-shared_buffers = 1GB" in out.stdout
    assert "would change +1 -2 lines, mode 0640 -> 0644" in out.summary
    after = (content(config), stat(config).st_ino, stat(config).st_mtime_ns, listing(config.parent))
    assert after == before
    assert stat(config).st_mode & 0o7777 == 0o640


async def test_writing_the_same_content_changes_nothing(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, config: Path
) -> None:
    inode = stat(config).st_ino
    out = await call(services, "automation.write_file", path=str(config), content=text(config))
    assert not out.data["changes"] and "nothing changed" in out.summary
    assert stat(config).st_ino == inode and listing(config.parent) == [config.name]
    assert write_file_undo({"path": str(config)}, out) == "nothing was changed"


async def test_write_creates_a_new_file_without_backup(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    target = tmp_path / "new.conf"
    out = await call(services, "automation.write_file", path=str(target), content="a\n")
    assert text(target) == "a\n" and stat(target).st_mode & 0o777 == 0o644
    assert out.data["backup"] == "" and "(new file)" in out.summary
    assert "did not exist before" in str(write_file_undo({"path": str(target)}, out))


async def test_write_through_a_link_replaces_the_real_file(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, config: Path
) -> None:
    link = config.parent / "current.conf"
    link.symlink_to(config)
    out = await call(services, "automation.write_file", path=str(link), content="y = 2\n")
    assert link.is_symlink() and text(config) == "y = 2\n"
    assert out.data["real_path"] == str(config)
    undo = write_file_undo({"path": str(link)}, out)
    assert undo == Call(
        "automation.copy_file",
        {"path": out.data["backup"], "to": "web-01", "to_path": str(config), "if_sha256": out.data["sha256"]},
        target=HOST.model_dump(mode="json"),
    )


async def test_write_refuses_a_denied_real_path(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, config: Path
) -> None:
    link = config.parent / "innocent.conf"
    link.symlink_to(config)
    before = content(config)
    with pytest.raises(NotPermitted):
        await call(
            services, "automation.write_file", path=str(link), content="z\n", guard=DenyPaths(str(config))
        )
    assert content(config) == before


async def test_write_renders_a_template_for_the_host(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "motd.j2").write_text("Welcome to {{ asset.name }} ({{ asset.address }})\n")
    target = tmp_path / "motd"
    await call(services, "automation.write_file", path=str(target), template="motd")
    assert text(target) == f"Welcome to web-01 ({HOST.address})\n"
    with pytest.raises(Exception, match="no file template named"):
        await call(services, "automation.write_file", path=str(target), template="missing")
