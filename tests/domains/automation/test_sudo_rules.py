"""A dedicated non-root login with the sudo rules of docs/operations.md, on a real sshd and sudo.

The sshd runs in its own mount namespace where /etc/passwd, /etc/group and /etc/shadow know an
`opsconductor` user and /etc/sudoers holds the documented rules (nothing changes for the rest
of the machine). `sudo -n -l CMD` asks sudo whether the rules allow a command without running
it, so reboot and disk cleanup are checked without rebooting or deleting anything. The file
tools really run as that login: they fetch a root-only file and write (and undo) a root-owned
file in a root-owned directory, through those rules only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.localfiles import DirectoryFetchedFiles
from adapters.ssh import AsyncsshShell, SshConfig
from adapters.ssh.files import AsyncsshFiles
from domains.assets.directory import InMemoryAssetDirectory
from domains.automation import linux
from domains.automation.files import write_file_undo
from domains.automation.ports import AutomationOptions, FetchedFiles, RemoteFiles, RemoteShell
from domains.automation.remote import failure_text
from domains.automation.toolset import automation
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.errors import AccessDenied, ToolFailed
from pipeline.ports import AssetDirectory
from pipeline.registry import Call, ToolContext
from tests.integration.sshd_fixtures import in_testbed, sshd_testbed, testbed_known_hosts
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]
pytestmark = pytest.mark.sshd

DOCS = Path(__file__).resolve().parents[3] / "docs" / "operations.md"
ADDRESS = "127.0.0.40"
UID = 42420
HOST = AssetRef(name="app-01", address=ADDRESS)
NEEDS_ROOT = [  # what the tools run through as_root (tests/domains/automation/test_parsers.py, the pack)
    "/usr/bin/systemctl start -- nginx.service",
    "/usr/bin/systemctl stop -- nginx.service",
    "/usr/bin/systemctl restart -- nginx.service",
    "/usr/bin/systemctl reboot",
    "/usr/sbin/shutdown -r now",
    "/usr/bin/journalctl --vacuum-size=500M",
    "/usr/bin/apt-get clean",
    "/usr/bin/xargs -0 -r rm -f --",
    # the file tools, for what the login may not touch itself (domains/automation/rootfiles.py)
    "/usr/bin/stat -L -c %s/%f/%u/%g -- /etc/shadow",
    "/usr/bin/head -c 10485761 -- /etc/shadow",
    "/usr/bin/install -m 0600 -T -- /tmp/tmp.x/create /etc/.app.conf.opsconductor-1a2b.tmp",
    "/usr/bin/chown 0:0 -- /etc/.app.conf.opsconductor-1a2b.tmp",
    "/usr/bin/chmod 0644 -- /etc/.app.conf.opsconductor-1a2b.tmp",
    "/usr/bin/ln -- /etc/app.conf /etc/app.conf.20261204T231500Z.bak",
    "/usr/bin/mv -f -T -- /etc/.app.conf.opsconductor-1a2b.tmp /etc/app.conf",
    "/usr/bin/rm -f -- /etc/.app.conf.opsconductor-1a2b.tmp",
]
SPECS = {spec.name: spec for spec in automation.specs}


def documented_rules() -> str:
    """The ```sudoers block of docs/operations.md, as an operator copies it."""
    match = re.search(r"```sudoers\n(.*?)```", DOCS.read_text(), re.DOTALL)
    assert match is not None, "docs/operations.md has no sudoers block"
    return match.group(1)


@pytest.fixture(scope="module")
def non_root_sshd(sshd_testbed: SshdTestbed) -> Iterator[SshdTestbed]:
    if not shutil.which("visudo"):
        pytest.skip("sudo is not installed (apt-get install sudo)")
    etc = sshd_testbed.dir / "nonroot-etc"
    etc.mkdir()
    home = Path(tempfile.mkdtemp(prefix="oc-nonroot-")) / "home"  # outside pytest's private tree
    home.parent.chmod(0o755)
    ssh = home / ".ssh"
    ssh.mkdir(parents=True)
    shutil.copy(sshd_testbed.dir / "authorized_keys", ssh / "authorized_keys")
    for path in (home, ssh, ssh / "authorized_keys"):
        shutil.chown(path, UID, UID)
    entries = {
        "passwd": f"opsconductor:x:{UID}:{UID}:OpsConductor:{home}:/bin/sh\n",
        "group": f"opsconductor:x:{UID}:\n",
        "shadow": "opsconductor:*:19000:0:99999:7:::\n",
    }
    for name, line in entries.items():
        (etc / name).write_text(Path(f"/etc/{name}").read_text() + line)
    (etc / "sudoers").write_text(f"Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n{documented_rules()}")
    (etc / "sudoers").chmod(0o440)
    mounts = [(etc / name, f"/etc/{name}") for name in ("passwd", "group", "shadow", "sudoers")]
    own_keys = "Match User opsconductor\n  AuthorizedKeysFile %h/.ssh/authorized_keys\n"
    try:
        sshd_testbed.start_sshd("nonroot", listen=[ADDRESS], mounts=mounts, extra_config=own_keys)
        yield sshd_testbed
    finally:
        shutil.rmtree(home.parent, ignore_errors=True)


@pytest.fixture
async def shell(
    non_root_sshd: SshdTestbed, in_testbed: SshdTestbed, testbed_known_hosts: Path
) -> AsyncIterator[AsyncsshShell]:
    with testbed_known_hosts.open("a") as known:
        known.write(f"{ADDRESS} {in_testbed.host_public_key()}\n")
    config = SshConfig(  # the default user: opsconductor
        known_hosts=str(testbed_known_hosts), client_keys=(str(in_testbed.client_key),), connect_timeout_s=5.0
    )
    remote = AsyncsshShell(config)
    yield remote
    await remote.close()


def test_the_documented_rules_are_valid_sudoers(tmp_path: Path) -> None:
    if not shutil.which("visudo"):
        pytest.skip("sudo is not installed (apt-get install sudo)")
    rules = tmp_path / "opsconductor"
    rules.write_text(documented_rules())
    checked = subprocess.run(["visudo", "-cf", str(rules)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_every_command_a_tool_runs_as_root_is_allowed_and_nothing_else(shell: AsyncsshShell) -> None:
    assert (await shell.run(HOST, "id -un")).stdout == "opsconductor\n"
    for command in NEEDS_ROOT:
        allowed = await shell.run(HOST, f"sudo -n -l {command}")
        assert allowed.exit_code == 0, (command, allowed.stderr)
    assert "systemctl reboot" in AutomationOptions().linux_reboot_command
    for command in ("/usr/bin/id -u", "/usr/bin/systemctl edit nginx.service", "/bin/sh -c id"):
        assert (await shell.run(HOST, f"sudo -n -l {command}")).exit_code != 0, command


async def test_as_root_goes_through_sudo_and_a_missing_rule_says_so(shell: AsyncsshShell) -> None:
    restarted = await shell.run(HOST, f"{linux.AS_ROOT}; as_root systemctl restart -- nginx.service")
    assert "sudo:" not in restarted.stderr  # sudo let it through: systemctl itself answers (no systemd here)
    assert "systemd" in restarted.stderr or "bus" in restarted.stderr, restarted.stderr
    refused = await shell.run(HOST, f"{linux.AS_ROOT}; as_root id -u")
    assert refused.exit_code != 0 and "sudo: a password is required" in refused.stderr
    assert "add the sudoers rule for this tool" in failure_text(refused)


def readme_rules() -> str:
    """The ```sudoers block of the README's "Connect your machines"."""
    match = re.search(r"```sudoers\n(.*?)```", (DOCS.parents[1] / "README.md").read_text(), re.DOTALL)
    assert match is not None, "README.md has no sudoers block"
    return match.group(1)


def test_the_readme_shows_the_same_rules() -> None:
    assert readme_rules() == documented_rules()


def content(path: Path | str) -> bytes:
    return Path(path).read_bytes()


def staged_left() -> list[str]:
    """Staging directories (mktemp -d) the login left in /tmp."""
    return [p.name for p in Path("/tmp").glob("tmp.*") if p.stat().st_uid == UID]


@pytest.fixture
def root_files() -> Iterator[Path]:
    """A root-owned directory (0755) the login may enter but not write, outside pytest's tree."""
    folder = Path(tempfile.mkdtemp(prefix="oc-rootfiles-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def services(shell: AsyncsshShell, tmp_path: Path) -> dict[type[Any], Any]:
    return {
        RemoteShell: shell,
        RemoteFiles: AsyncsshFiles(shell),
        FetchedFiles: DirectoryFetchedFiles(tmp_path / "fetched"),
        AssetDirectory: InMemoryAssetDirectory([HOST]),
    }


async def run(
    services: dict[type[Any], Any], name: str, target: AssetRef | None = HOST, **raw: Any
) -> ToolOutput:
    spec = SPECS[name]
    ctx = ToolContext(execution_id="ex-sudo", step_id="s1", services=services)
    return await spec.func(ctx, target, spec.parse_args(raw))


async def test_fetch_reads_a_root_only_file_through_sudo(
    services: dict[type[Any], Any], shell: AsyncsshShell, root_files: Path
) -> None:
    secret = root_files / "private" / "app.key"
    secret.parent.mkdir(mode=0o700)
    secret.write_bytes(b"not for the login\n" + bytes(range(256)))
    secret.chmod(0o600)
    async with AsyncsshFiles(shell).session(HOST) as sftp:  # the login alone may not
        with pytest.raises(AccessDenied):
            await sftp.read(str(secret), 100)
    out = await run(services, "automation.fetch_file", path=str(secret))
    assert out.data["bytes"] == len(content(secret)) and not out.data["truncated"]
    assert content(out.files[0]) == content(secret)
    assert staged_left() == []  # the login's staging directory is gone


async def test_write_and_undo_a_root_owned_file_through_sudo(
    services: dict[type[Any], Any], root_files: Path
) -> None:
    conf = root_files / "app.conf"
    conf.write_text("workers = 2\n")
    conf.chmod(0o640)
    before = conf.stat()
    out = await run(services, "automation.write_file", path=str(conf), content="workers = 8\n")
    assert conf.read_text() == "workers = 8\n", out.summary
    after = conf.stat()
    assert (after.st_mode & 0o7777, after.st_uid, after.st_gid) == (0o640, 0, 0)  # mode and owner kept
    assert after.st_ino != before.st_ino  # a new file renamed over the old one (atomic)
    backup = out.data["backup"]
    assert os.stat(backup).st_ino == before.st_ino and content(backup) == b"workers = 2\n"  # a hard link
    assert sorted(os.listdir(root_files)) == sorted(["app.conf", os.path.basename(backup)])  # no temp left

    undo = write_file_undo(out.data | {"path": str(conf)}, out)
    assert isinstance(undo, Call)
    target = AssetRef.model_validate(undo.target) if undo.target else HOST
    undone = await run(services, undo.tool, target, **undo.args)
    assert conf.read_text() == "workers = 2\n", undone.summary
    restored = conf.stat()
    assert (restored.st_mode & 0o7777, restored.st_uid, restored.st_gid) == (0o640, 0, 0)


async def test_without_the_file_rules_the_write_fails_naming_the_rule(
    services: dict[type[Any], Any], root_files: Path, non_root_sshd: SshdTestbed
) -> None:
    conf = root_files / "other.conf"
    conf.write_text("a = 1\n")
    rules = non_root_sshd.dir / "nonroot-etc" / "sudoers"
    kept = rules.read_text()
    rules.write_text(kept.replace("/usr/bin/install", "/usr/bin/install-nothing"))
    try:
        with pytest.raises(ToolFailed, match="add the sudoers rule for this tool"):
            await run(services, "automation.write_file", path=str(conf), content="a = 2\n")
    finally:
        rules.write_text(kept)
    assert conf.read_text() == "a = 1\n" and os.listdir(root_files) == ["other.conf"]
