"""Questions about the past through the real console process and its SQLite database: the
historian answers them from the recorded executions, and nothing is planned or run for them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.test_cli import opsconductor, text

QUESTIONS = (
    "what did I run today?",
    "did I restart anything today?",
    "have we changed something today",
)


def test_what_the_asker_ran_is_answered_from_the_record_and_never_planned(tmp_path: Path) -> None:
    home = tmp_path / "home"
    lines = ["ping 127.0.0.1", *QUESTIONS, "what did we run yesterday?"]
    proc = opsconductor(home, "chat", stdin="\n".join(lines).encode() + b"\n")
    out, err = text(proc)
    assert proc.returncode == 0 and "Traceback" not in out + err, err
    assert out.count("You made 1 request today:") == len(QUESTIONS)
    assert "You ran nothing yesterday." in out
    assert "approv" not in out.lower()  # a question is never offered for approval

    db = sqlite3.connect(home / "opsconductor.db")
    try:
        steps = db.execute("select tool from execution_steps").fetchall()
        requests = db.execute("select id, request, status from executions order by created_at").fetchall()
    finally:
        db.close()
    assert steps == [("network.ping",)]  # the questions ran nothing
    ping, *questions = requests
    assert ping[1:] == ("ping 127.0.0.1", "succeeded") and out.count(ping[0]) == len(QUESTIONS)
    assert [(r, s) for _, r, s in questions] == [(q, "answered") for q in lines[1:]]
