"""`opsconductor credentials set|list|delete` as an operator runs them: real processes, fresh HOME."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_cli import opsconductor, text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]  # one process per command, on a loaded machine


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, str]:
    """A private key file and its fingerprint as `ssh-keygen -lf` prints it."""
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    shown = subprocess.run(["ssh-keygen", "-lf", str(path)], check=True, capture_output=True, text=True)
    return path, shown.stdout.split()[1]


def ok(proc: subprocess.CompletedProcess[bytes]) -> str:
    out, err = text(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err
    return out


def test_set_list_delete_by_scope_never_printing_a_secret(home: Path, key: tuple[Path, str]) -> None:
    path, fingerprint = key
    stored = ok(
        opsconductor(home, "credentials", "set", "localhost", "--user", "ops", "--key-file", str(path))
    )
    assert stored.strip() == f"stored ssh_key for host localhost (user ops, key {fingerprint})"
    ok(
        opsconductor(
            home,
            "credentials",
            "set",
            "--tag",
            "role=db",
            "--user",
            "dba",
            "--password-stdin",
            stdin=b"pw-1\n",
        )
    )
    ok(
        opsconductor(
            home,
            "credentials",
            "set",
            "--default",
            "--user",
            "opsconductor",
            "--password-stdin",
            stdin=b"pw-2\n",
        )
    )

    listed = ok(opsconductor(home, "credentials", "list"))
    rows = [line.split() for line in listed.splitlines()]
    assert rows == [
        ["host", "localhost", "ops", "ssh_key", fingerprint],
        ["tag", "role=db", "dba", "password", "-"],
        ["default", "opsconductor", "password", "-"],
    ]
    secrets = ("pw-1", "pw-2", "PRIVATE KEY", path.read_text().splitlines()[1][:20])
    assert not any(s in listed for s in secrets)

    assert ok(opsconductor(home, "credentials", "delete", "--tag", "role=db")).strip() == (
        "deleted 1 credential of tag role=db"
    )
    gone = opsconductor(home, "credentials", "delete", "--tag", "role=db")
    assert gone.returncode == 1 and "no credential stored for tag role=db" in text(gone)[1]
    assert "role=db" not in ok(opsconductor(home, "credentials", "list"))


def test_mistakes_get_one_line_that_says_what_to_do(
    home: Path, key: tuple[Path, str], tmp_path: Path
) -> None:
    path, _ = key
    cases = {
        ("set", "ghost-01", "--user", "u", "--key-file", str(path)): (1, "ghost-01 is not in the inventory"),
        ("set", "localhost", "--user", "u", "--key-file", f"{path}.pub"): (1, "that is a public key"),
        ("set", "localhost", "--default", "--user", "u", "--key-file", str(path)): (2, "exactly one of HOST"),
        ("set", "localhost", "--user", "u"): (2, "either --key-file FILE or --password-stdin"),
        ("set", "--tag", "prod", "--user", "u", "--key-file", str(path)): (1, "KEY=VALUE"),
        ("set", "localhost", "--user", "u", "--key-file", str(tmp_path / "none")): (1, "No such file"),
    }
    for args, (code, words) in cases.items():
        proc = opsconductor(home, "credentials", *args)
        out, err = text(proc)
        assert proc.returncode == code, (args, err)
        assert words in err and "Traceback" not in out + err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
