"""The `opsconductor` command as a user runs it: a real process on the embedded default."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def opsconductor(
    home: Path,
    *args: str,
    stdin: bytes | None = None,
    timeout: float = 60,
    prefix: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    environment["OPSCONDUCTOR_HOME"] = str(home)
    environment.update(env or {})
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        env=environment,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def text(proc: subprocess.CompletedProcess[bytes]) -> tuple[str, str]:
    return proc.stdout.decode(), proc.stderr.decode()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_ask_ping_prints_a_real_icmp_result(home: Path) -> None:
    proc = opsconductor(home, "ask", "ping 127.0.0.1")
    out, err = text(proc)
    assert proc.returncode == 0, err
    assert "network.ping" in out and "127.0.0.1" in out
    assert "loss" in out and "rtt" in out
    assert "Traceback" not in out + err


def test_ask_json_gives_plan_step_results_and_outcome(home: Path) -> None:
    proc = opsconductor(home, "ask", "--json", "ping localhost")
    out, err = text(proc)
    assert proc.returncode == 0, err
    data = json.loads(out)
    assert data["outcome"] == "answer"
    assert data["plan"]["steps"][0]["tool"] == "network.ping"
    result = data["result"]["steps"][0]["results"][0]
    assert result["target"] == "localhost" and result["status"] == "ok"
    assert result["output"]["data"]["received"] >= 1
    assert 0 <= result["output"]["data"]["loss_pct"] <= 100


def test_help_and_unknown_requests_get_clear_answers(home: Path) -> None:
    helped = opsconductor(home, "ask", "help")
    shown = text(helped)[0]
    assert helped.returncode == 0 and "\n  ping localhost " in shown  # the demo inventory's hosts
    assert "web-01" not in shown and "db-01" not in shown
    unknown = opsconductor(home, "ask", "please defragment the moon")
    out, err = text(unknown)
    assert unknown.returncode == 0 and out.strip() and "Traceback" not in out + err


def test_every_request_is_persisted_and_audited(home: Path) -> None:
    assert opsconductor(home, "ask", "ping 127.0.0.1").returncode == 0
    db = sqlite3.connect(home / "opsconductor.db")
    try:
        executions = db.execute("select status from executions").fetchall()
        steps = db.execute("select tool, status from execution_steps").fetchall()
        audits = db.execute("select event from audit_log order by seq").fetchall()
    finally:
        db.close()
    assert executions == [("succeeded",)]
    assert steps == [("network.ping", "succeeded")]
    assert [a[0] for a in audits][:2] == ["request", "plan"]
    verified = opsconductor(home, "audit", "verify")
    assert verified.returncode == 0 and "intact" in text(verified)[0]


def test_piped_chat_reports_non_utf8_lines_and_goes_on(home: Path) -> None:
    proc = opsconductor(home, "chat", stdin=b"ping 127.0.0.1\n\xff\xfe bad\nhelp\n")
    out, err = text(proc)
    assert "line 2: not valid UTF-8" in err
    assert "network.ping" in out and "restart nginx on loopback-2" in out  # the demo inventory's help
    assert proc.returncode == 1
    assert "Traceback" not in out + err


def test_overlong_and_empty_input(home: Path) -> None:
    long = opsconductor(home, "ask", "ping " + "x" * 10_001)
    assert long.returncode == 1 and "at most 10,000" in text(long)[0]
    empty = opsconductor(home, "ask", "   ")
    assert empty.returncode == 0 and "empty message" in text(empty)[0]
    bad = opsconductor(home, "ask", "-", stdin=b"\xff\xfe")
    assert bad.returncode == 2 and "not valid UTF-8" in text(bad)[1]


def test_corrupt_database_is_one_line_error(home: Path) -> None:
    home.mkdir()
    (home / "opsconductor.db").write_bytes(b"this is not a database" * 100)
    proc = opsconductor(home, "ask", "ping 127.0.0.1")
    out, err = text(proc)
    assert proc.returncode == 1
    assert err.strip().startswith("error:") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err
    assert str(home / "opsconductor.db") in err  # names the file and the ways back
    assert "restore the file from a backup" in err and "aside and run the command again" in err
    (home / "opsconductor.db").rename(home / "corrupt.db")  # as the message says
    again = opsconductor(home, "ask", "ping 127.0.0.1")
    assert again.returncode == 0, text(again)[1]


def test_read_only_database_is_one_line_error(home: Path) -> None:
    """Root ignores file modes, so the home is bind-mounted read-only in a private mount namespace."""
    assert opsconductor(home, "ask", "help").returncode == 0
    if os.geteuid() != 0:
        pytest.skip("needs root for a private read-only bind mount")
    mount = f'mount --bind {home} {home} && mount -o remount,bind,ro {home} && exec "$@"'
    proc = opsconductor(home, "ask", "ping 127.0.0.1", prefix=["unshare", "-m", "sh", "-c", mount, "sh"])
    out, err = text(proc)
    assert proc.returncode == 1, out + err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert "read-only" in err or "cannot be opened" in err
    assert "Traceback" not in out + err


def test_assets_import_all_or_nothing(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "inv.yaml"
    good.write_text(
        "assets:\n"
        "  - {name: lab-01, address: 127.0.0.11, type: web_server, os: linux, environment: lab,"
        " location: here, tags: {role: web}, services: [nginx]}\n"
    )
    imported = opsconductor(home, "assets", "import", str(good))
    assert imported.returncode == 0, text(imported)[1]
    assert "imported 1" in text(imported)[0]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,address,type\nlab-02,127.0.0.12,web_server\nlab-03,,web_server\n")
    refused = opsconductor(home, "assets", "import", str(bad))
    _out, err = text(refused)
    assert refused.returncode == 1 and "bad.csv:3" in err and "Traceback" not in err
    listed = opsconductor(home, "ask", "--json", "ping lab-02")
    assert json.loads(text(listed)[0])["outcome"] == "clarify"  # nothing of bad.csv was written


def test_version(home: Path) -> None:
    proc = opsconductor(home, "version")
    assert proc.returncode == 0 and text(proc)[0].startswith("opsconductor ")


@pytest.mark.slow
@pytest.mark.timeout(180)  # four processes of the real command
def test_tokens_create_list_revoke_show_the_token_once_and_store_a_hash(home: Path) -> None:
    proc = opsconductor(
        home, "tokens", "create", "--person", "ci-bot", "--role", "operator", "--expires", "30d"
    )
    out, err = text(proc)
    assert proc.returncode == 0, err
    token = out.split("store it now): ")[1].strip()
    token_id = token.split("_")[1]
    assert "[operator,viewer]" in out and "active" in out
    rows = (
        sqlite3.connect(home / "opsconductor.db").execute("SELECT id, secret_hash FROM api_tokens").fetchall()
    )
    assert [r[0] for r in rows] == [token_id] and token.split("_", 2)[2] not in str(rows)
    listed, _ = text(opsconductor(home, "tokens", "list"))
    assert token_id in listed and token not in listed
    revoked = opsconductor(home, "tokens", "revoke", token_id)
    assert revoked.returncode == 0, text(revoked)[1]
    row = sqlite3.connect(home / "opsconductor.db").execute("SELECT revoked_at FROM api_tokens").fetchone()
    assert row[0] is not None
    bad = opsconductor(home, "tokens", "create", "--person", "x", "--role", "root")
    assert bad.returncode == 1 and "unknown role root" in text(bad)[1]


@pytest.mark.timeout(240)  # five processes, each opening the database
def test_ask_check_and_undo_from_the_command_line(home: Path) -> None:
    """`ask --check` runs the change's read-only check (no approval); `undo` answers for a change
    (here one that reached nothing: no sshd on this machine's loopback for the local user)."""
    proc = opsconductor(home, "ask", "--json", "--check", "stop sshd on localhost")
    out, err = text(proc)
    assert proc.returncode == 3, err  # the check ran and could not reach the host (exit code 3)
    checked = json.loads(out)
    assert checked["summary"].startswith("Check only, nothing was changed") and not checked["needs_approval"]
    assert [(s["tool"], s["check"], s["risk"]) for s in checked["plan"]["steps"]] == [
        ("automation.service_control", True, "read")
    ]
    asked = json.loads(text(opsconductor(home, "ask", "--json", "stop sshd on localhost"))[0])
    assert asked["outcome"] == "awaiting_approval"
    ran = opsconductor(home, "approve", asked["execution_id"])
    assert ran.returncode == 3 and "Nothing of this can be undone" in text(ran)[0]  # ran, failed
    undo = opsconductor(home, "undo", asked["execution_id"])
    out, err = text(undo)
    assert undo.returncode == 5 and "succeeded on no target" in out, out + err  # a conflict, not policy
    unknown = opsconductor(home, "undo", "0" * 32)
    assert unknown.returncode != 0 and "Traceback" not in text(unknown)[0] + text(unknown)[1]


def test_piped_output_is_not_padded_or_wrapped_at_80_columns(home: Path) -> None:
    proc = opsconductor(home, "ask", "status of sshd on localhost", env={"OPSCONDUCTOR_SSH__PORT": "1"})
    out, err = text(proc)
    assert proc.returncode == 3, err
    lines = out.splitlines()
    assert lines and not [line for line in lines if line != line.rstrip()]
    assert "refused the connection (no SSH server listening)" in lines[0]  # one summary line
    assert len(lines[0]) > 80


@pytest.mark.timeout(180)  # three processes of the real command
def test_history_prune_dry_run_counts_then_prune_removes_old_results(home: Path) -> None:
    first = opsconductor(home, "history", "prune", "--dry-run")  # creates and migrates the database
    assert first.returncode == 0, text(first)[1]
    db = sqlite3.connect(home / "opsconductor.db")
    with db:
        for scan, at in (("old", "2020-01-01 00:00:00.000000"), ("new", "2099-01-01 00:00:00.000000")):
            db.execute(
                "INSERT INTO network_scans (id, kind, requested_by, targets, parameters, status, summary,"
                " started_at) VALUES (?, 'ping', '', '[]', '{}', 'completed', '{}', ?)",
                (scan, at),
            )
            db.execute(
                "INSERT INTO connectivity_tests (scan_id, target, address, sent, received, loss_pct,"
                " reachable, error, at) VALUES (?, 'db-01', '', 1, 1, 0, 1, '', ?)",
                (scan, at),
            )

    dry = opsconductor(home, "history", "prune", "--dry-run")
    out, err = text(dry)
    assert dry.returncode == 0, err
    assert "would remove 1 connectivity_tests, 1 network_scans" in out
    assert "audit_log" in out and "never pruned" in out
    assert db.execute("SELECT count(*) FROM connectivity_tests").fetchone() == (2,)

    done = opsconductor(home, "history", "prune")
    out, err = text(done)
    assert done.returncode == 0, err
    assert "removed 1 connectivity_tests, 1 network_scans" in out
    assert db.execute("SELECT scan_id FROM connectivity_tests").fetchall() == [("new",)]
    event, detail = db.execute("SELECT event, detail FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    assert event == "history.pruned"
    assert json.loads(detail)["measurements"]["connectivity_tests"] == 1
