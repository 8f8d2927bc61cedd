"""The README's "Connect your machines" journey, as a newcomer walks it: real processes, a fresh
HOME, the real sshd of the testbed as "their" machine (the demo inventory's localhost).

Each failure on the way names the command that fixes it; nothing prints a traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_cli import opsconductor, text
from tests.e2e.test_hosts_cli import host_fingerprint
from tests.integration.sshd_fixtures import sshd_testbed
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["sshd_testbed"]
pytestmark = [pytest.mark.sshd, pytest.mark.slow, pytest.mark.timeout(400)]
READ = "disk usage on localhost"
READ_MANY = "disk usage on localhost, loopback-2 and loopback-3"  # the demo inventory's, one sshd
PYTHON_REPR = re.compile(r"[{\[(]'[^']*'[,:)]|'\w+': |\bNone\b|\w+=None")  # {'pid': 1, ['a', ...
WRITE = "clean up disk space on localhost with dry_run=true"  # approved, but deletes nothing here


class Newcomer:
    """Runs `opsconductor` as a person with their own HOME, inside the testbed's namespace."""

    def __init__(self, bed: SshdTestbed, home: Path, env: dict[str, str] | None = None) -> None:
        self.bed, self.home = bed, home
        self.env = {"HOME": str(home), **(env or {})}
        self.home.mkdir(parents=True, exist_ok=True)

    def run(self, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        proc = opsconductor(
            self.home / ".opsconductor",
            *args,
            stdin=stdin,
            prefix=["ip", "netns", "exec", self.bed.ns],
            env=self.env,
            timeout=120,
        )
        out, err = text(proc)
        assert "Traceback" not in out + err, out + err
        assert not PYTHON_REPR.search(out + err), out + err  # results read as text, never as Python
        return proc.returncode, out, err

    def ok(self, *args: str) -> str:
        code, out, err = self.run(*args)
        assert code == 0, out + err
        return out

    def failed(self, *args: str) -> str:
        """A run whose step failed: exit code 3 (README, Exit codes), the reply on stdout."""
        code, out, err = self.run(*args)
        assert code == 3, out + err
        return out

    def ask_json(self, request: str) -> dict[str, object]:
        answer: dict[str, object] = json.loads(self.ok("ask", "--json", request))
        return answer


def cells(line: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of a table line: text runs apart by two spaces or more."""
    return [m.span() for m in re.finditer(r"\S+(?: \S+)*", line)]


def table(out: str, first: str, rows: int) -> list[list[str]]:
    """The table whose header starts with `first`: header and `rows` rows, their columns aligned
    (each cell starts or ends where its column's header does), as cell texts."""
    lines = out.splitlines()
    at = next(n for n, line in enumerate(lines) if line.split()[:1] == [first])
    below = [line for line in lines[at + 1 :] if not re.fullmatch(r"\s*[─━]+\s*", line)]  # a rule
    header, body = cells(lines[at]), below[:rows]
    found = [[lines[at][a:b] for a, b in header]]
    for line in body:
        spans = cells(line)
        assert len(spans) == len(header), (lines[at], line)
        for (a, b), (start, end) in zip(header, spans, strict=True):
            assert start == a or end == b, (lines[at], line)
        found.append([line[a:b] for a, b in spans])
    return found


def one_line(out: str) -> str:
    """The reply folded onto one line (the console wraps long lines to the terminal)."""
    return " ".join(out.split())


def test_from_a_fresh_home_to_an_approved_change_on_a_real_host(
    sshd_testbed: SshdTestbed, tmp_path: Path
) -> None:
    me = Newcomer(sshd_testbed, tmp_path / "home")
    key = tmp_path / "id_ed25519"  # the key the operator made for the bot and authorised on the host
    shutil.copy(sshd_testbed.client_key, key)

    # 1. Nothing set up: the reply names the command that records the host key.
    untrusted = one_line(me.failed("ask", READ))
    assert "`opsconductor hosts trust localhost`" in untrusted
    assert "the error names the command that fixes it" in untrusted and "firewall" not in untrusted
    # 2. Trust the host key, checked against the fingerprint read on the host itself.
    trusted = me.ok("hosts", "trust", "localhost", "--fingerprint", host_fingerprint(sshd_testbed))
    assert trusted.splitlines()[-1] == f"trusted: recorded in {me.home / '.opsconductor' / 'known_hosts'}"
    # 3. No login yet: the default user (opsconductor, not root) is refused, and the reply says how.
    refused = one_line(me.failed("ask", READ))
    assert "login as opsconductor on 127.0.0.1 was refused" in refused
    assert "`opsconductor credentials set localhost --user USER --key-file FILE`" in refused
    assert "firewall" not in refused
    # 4. Store the login (the testbed's sshd has only root; a real host has the opsconductor user).
    stored = me.ok("credentials", "set", "localhost", "--user", "root", "--key-file", str(key))
    assert stored.startswith("stored ssh_key for host localhost (user root, key SHA256:")
    assert "root" in me.ok("credentials", "list") and "PRIVATE" not in me.ok("credentials", "list")

    # 5. A read runs at once and reads as an answer: a summary, then tables.
    read = me.ok("ask", READ)
    assert read.startswith("✅ automation.system_info — localhost: disk / "), read
    [header, row] = table(read, "target", 1)
    assert header == ["target", "status", "time"] and row[:2] == ["localhost", "ok"], read
    assert re.fullmatch(r"\d+(\.\d+)? m?s", row[2]), read
    [mount, *_] = table(read, "mount", 1)
    assert mount[:3] == ["mount", "filesystem", "size_mb"], read
    # 6. A change waits for approval, then runs once approved.
    prompt = me.ask_json(WRITE)
    assert prompt["outcome"] == "awaiting_approval", prompt
    done = me.ok("approve", str(prompt["execution_id"]))
    assert done.startswith("✅ linux.disk_cleanup — localhost: freed 0 KiB"), done
    assert "dry run: nothing removed" in done
    # 7. More hosts (one login for all, each key trusted): one row per host, columns aligned.
    for host in ("loopback-2", "loopback-3"):
        me.ok("hosts", "trust", host, "--fingerprint", host_fingerprint(sshd_testbed))
    me.ok("credentials", "set", "--default", "--user", "root", "--key-file", str(key))
    many = me.ok("ask", READ_MANY)
    header, *rows = table(many, "target", 3)
    assert header[:2] == ["target", "status"] and sorted(r[0] for r in rows) == [
        "localhost",
        "loopback-2",
        "loopback-3",
    ]
    assert all(r[1] == "ok" for r in rows), many


def test_an_approval_runs_with_the_services_files_whoever_approves(
    sshd_testbed: SshdTestbed, tmp_path: Path
) -> None:
    """Item 8: the approver's own ~/.ssh (known_hosts, keys, config) never takes part in the run."""
    service = {"OPSCONDUCTOR_HOME": str(tmp_path / "service"), "SSH_AUTH_SOCK": ""}
    alice = Newcomer(sshd_testbed, tmp_path / "alice", service)
    alice.ok("hosts", "trust", "localhost", "--fingerprint", host_fingerprint(sshd_testbed))
    alice.ok("credentials", "set", "localhost", "--user", "root", "--key-file", str(sshd_testbed.client_key))

    bob = Newcomer(sshd_testbed, tmp_path / "bob", service)
    ssh = bob.home / ".ssh"
    ssh.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / "id_ed25519")], check=True)
    wrong = " ".join((ssh / "id_ed25519.pub").read_text().split()[:2])  # a valid key, not the host's
    (ssh / "known_hosts").write_text(f"127.0.0.1 {wrong}\n")
    (ssh / "config").write_text(
        "Host *\n  User nobody\n  Port 2222\n  UserKnownHostsFile ~/.ssh/known_hosts\n"
    )
    os.chmod(ssh / "config", 0o600)

    prompt = alice.ask_json(WRITE)
    done = one_line(bob.ok("approve", str(prompt["execution_id"])))
    assert done.startswith("✅ linux.disk_cleanup — localhost: freed 0 KiB"), done

    # The other way round: bob's key would log in, but the service has no login stored.
    shutil.copy(sshd_testbed.client_key, ssh / "id_ed25519")
    (ssh / "config").write_text("Host *\n  User root\n")
    alice.ok("credentials", "delete", "localhost")
    prompt = alice.ask_json(WRITE)
    refused = one_line(bob.failed("approve", str(prompt["execution_id"])))
    assert "login as opsconductor on 127.0.0.1 was refused" in refused, refused
