"""`opsconductor hosts trust|forget` against the real sshd of the testbed: real processes, fresh HOME.

The processes run inside the testbed's network namespace (`ip netns exec`), where the demo
inventory's localhost (127.0.0.1) is the testbed's sshd.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import asyncssh
import pytest

from tests.e2e.test_cli import opsconductor, text
from tests.integration.sshd_fixtures import sshd_testbed
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["sshd_testbed"]
pytestmark = [pytest.mark.sshd, pytest.mark.slow, pytest.mark.timeout(240)]


def host_fingerprint(bed: SshdTestbed) -> str:
    """What an operator reads on the host itself: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`."""
    shown = subprocess.run(
        ["ssh-keygen", "-lf", f"{bed.host_key}.pub"], check=True, capture_output=True, text=True
    )
    return shown.stdout.split()[1]


def in_bed(bed: SshdTestbed, home: Path, *args: str) -> tuple[int, str, str]:
    proc = opsconductor(home, *args, prefix=["ip", "netns", "exec", bed.ns])
    out, err = text(proc)
    assert "Traceback" not in out + err
    return proc.returncode, out, err


def test_trust_shows_the_fingerprint_records_it_once_confirmed_and_forget_removes_it(
    sshd_testbed: SshdTestbed, tmp_path: Path
) -> None:
    home, fingerprint = tmp_path / "home", host_fingerprint(sshd_testbed)
    known = home / "known_hosts"

    code, _, err = in_bed(sshd_testbed, home, "hosts", "trust", "localhost")  # no terminal to ask on
    assert code == 2 and "--fingerprint SHA256:" in err and not known.exists()
    code, _, err = in_bed(sshd_testbed, home, "hosts", "trust", "localhost", "--fingerprint", "SHA256:other")
    assert code == 1 and f"presents ssh-ed25519 key {fingerprint}, not SHA256:other" in err
    assert not known.exists()

    code, out, err = in_bed(sshd_testbed, home, "hosts", "trust", "localhost", "--fingerprint", fingerprint)
    assert code == 0, err
    assert out.splitlines() == [
        f"localhost (127.0.0.1 port 22) presents ssh-ed25519 key {fingerprint}",
        f"trusted: recorded in {known}",
    ]
    assert known.read_text() == f"127.0.0.1 {sshd_testbed.host_public_key()}\n"
    assert known.stat().st_mode & 0o777 == 0o600
    code, out, _ = in_bed(sshd_testbed, home, "hosts", "trust", "127.0.0.1", "--yes")
    assert code == 0 and out.splitlines()[-1] == f"already trusted in {known}"

    code, out, _ = in_bed(sshd_testbed, home, "hosts", "forget", "localhost")
    assert code == 0 and out.strip() == f"forgot 1 key of 127.0.0.1 in {known}"
    assert known.read_text() == ""
    code, _, err = in_bed(sshd_testbed, home, "hosts", "forget", "localhost")
    assert code == 1 and f"{known} holds no key for 127.0.0.1" in err


def test_a_changed_host_key_is_never_replaced_by_trust(sshd_testbed: SshdTestbed, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    (home / "known_hosts").write_text(f"127.0.0.1 {' '.join(other.split()[:2])}\n")
    code, _, err = in_bed(sshd_testbed, home, "hosts", "trust", "localhost", "--yes")
    assert code == 1 and "holds another key for 127.0.0.1" in err
    assert "run `opsconductor hosts forget localhost` first" in err and len(err.strip().splitlines()) == 1
