"""A dedicated non-root login with the sudo rules of docs/operations.md, on a real sshd and sudo.

The sshd runs in its own mount namespace where /etc/passwd, /etc/group and /etc/shadow know an
`opsconductor` user and /etc/sudoers holds the documented rules (nothing changes for the rest
of the machine). `sudo -n -l CMD` asks sudo whether the rules allow a command without running
it, so reboot and disk cleanup are checked without rebooting or deleting anything.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.ssh import AsyncsshShell, SshConfig
from domains.automation import linux
from domains.automation.ports import AutomationOptions
from domains.automation.remote import failure_text
from pipeline.contracts import AssetRef
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
]


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
