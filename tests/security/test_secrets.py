"""A secret in a command reaches the target and nothing else: logs, rows, audit, chat, JSON.

The whole app as `serve` builds it (`bot.app.running_app`, serve's JSON logging), on SQLite and
on PostgreSQL, against the real OpenSSH sshd of the testbed (reached through a loopback relay,
so that the database stays where the test runs). Alice asks to run a command that passes a
password to `mysql -p...` and `curl -u user:...`; the prompt is rendered for the console, Slack
and Teams; Bob approves; the command runs as root on the target, where shell functions named
mysql and curl write the arguments they received into files. A process whose command line
holds the password is then listed on the target. The password must appear in none of: the
captured log (asyncssh's own INFO line that names each command included), any row of any
table (audit records included), the `--json` form, the approval prompt and the replies as each
platform renders them; and it must have reached the target.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from rich.console import Console
from sqlalchemy import select

import db.models  # noqa: F401  (every table on Base.metadata)
from adapters.console.render import as_json
from adapters.console.render import render as render_console
from adapters.slack.render import render as render_slack
from adapters.teams.render import prompt_parts
from adapters.teams.render import render as render_teams
from bot.app import running_app
from bot.logging_setup import configure_logging
from bot.settings import Settings
from db.engine import create_engine
from db.migrate import upgrade
from db.types import Base
from pipeline.contracts import ApprovalPrompt, AssetRef, ChatIdentity, Decision, InboundMessage, Reply
from tests.integration.freezing_proxy import FreezingProxy
from tests.integration.sshd_fixtures import SSH_HOSTS, sshd_testbed
from tests.integration.sshd_testbed import SshdTestbed
from tests.services import free_port

pytestmark = pytest.mark.sshd

__all__ = ["sshd_testbed"]

ROOT = Path(__file__).resolve().parents[2]
ALICE = ChatIdentity(platform="console", user_id="alice")
BOB = ChatIdentity(platform="console", user_id="bob")


@pytest.fixture
def secret() -> str:
    return f"S3cret{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite under home (migrated by the app, as on the embedded default), or PostgreSQL migrated
    beforehand (as `opsconductor db upgrade` does in production)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/home/opsconductor.db"
    url = str(request.getfixturevalue("fresh_postgres_url"))
    await upgrade(url)
    return url


@pytest.fixture
async def relay(sshd_testbed: SshdTestbed) -> AsyncIterator[tuple[str, int]]:
    """The testbed's sshd on 127.0.0.1:<free port> of the test's own namespace."""
    listen = ("127.0.0.1", free_port())
    proxy = FreezingProxy(listen, (SSH_HOSTS[4], 22), upstream_ns=sshd_testbed.inside)
    await proxy.start()
    yield listen
    await proxy.close()


@pytest.fixture
def serve_logging() -> Iterator[io.StringIO]:
    """`serve`'s logging (JSON, INFO), its one handler writing here instead of stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("serve")
    stream = io.StringIO()
    cast(logging.StreamHandler[io.StringIO], root.handlers[0]).setStream(stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def app_settings(tmp_path: Path, database_url: str, relay: tuple[str, int], bed: SshdTestbed) -> Settings:
    known_hosts = bed.write_known_hosts(tmp_path / "known_hosts", [relay[0]], port=relay[1])
    return Settings(
        home=tmp_path / "home",
        db={"url": database_url},
        ssh={
            "username": "root",
            "port": relay[1],
            "known_hosts": str(known_hosts),
            "client_keys": [str(bed.client_key)],
            "connect_timeout_s": 5.0,
        },
        security={"credential_key": base64.b64encode(os.urandom(32)).decode()},
    )


def command_for(secret: str, received: Path) -> str:
    """Stand-ins for mysql and curl on the target record the arguments they were given."""
    return (
        f"mysql() {{ printf '%s\\n' \"$@\" > {received}/mysql.args; }}; "
        f"curl() {{ printf '%s\\n' \"$@\" > {received}/curl.args; }}; "
        f"mysql -uroot -p{secret} -e 'select 1' && curl -sf -u ops:{secret} http://127.0.0.1:9/health; "
        "echo done"
    )


def renderings(response: ApprovalPrompt | Reply) -> list[str]:
    """The response as each door shows it, and as `--json` prints it."""
    console = Console(record=True, width=200)
    console.print(render_console(response))
    shown = [console.export_text(), json.dumps(as_json(response), default=str)]
    shown.append(json.dumps(render_slack(response).__dict__, default=str))
    cards = prompt_parts(response) if isinstance(response, ApprovalPrompt) else [render_teams(response)]
    return [*shown, json.dumps(cards, default=str)]


async def all_rows(database_url: str) -> str:
    """Every row of every table, as text."""
    engine = create_engine(database_url)
    dump = []
    try:
        async with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                dump += [f"{table.name}: {tuple(row)}" for row in await conn.execute(select(table))]
    finally:
        await engine.dispose()
    return "\n".join(dump)


async def test_a_secret_reaches_the_target_and_nothing_else(
    tmp_path: Path,
    database_url: str,
    relay: tuple[str, int],
    sshd_testbed: SshdTestbed,
    serve_logging: io.StringIO,
    secret: str,
) -> None:
    received = tmp_path / "received"
    received.mkdir()
    settings = app_settings(tmp_path, database_url, relay, sshd_testbed)
    shown: list[str] = []
    listed = await asyncio.create_subprocess_exec("sh", "-c", "sleep 60", "mysql", f"-p{secret}")
    try:
        async with running_app(settings) as app:
            await app.assets.create(AssetRef(name="vault-01", address=relay[0], type="db_server"))
            ask = f"run `{command_for(secret, received)}` on vault-01"
            prompt = await app.kernel.submit(InboundMessage(identity=ALICE, text=ask, channel="C1"))
            assert isinstance(prompt, ApprovalPrompt), prompt
            shown += renderings(prompt)
            decision = Decision(
                execution_id=prompt.execution_id, approve=True, identity=BOB, digest=prompt.digest
            )
            reply = await app.kernel.decide(decision)
            assert isinstance(reply, Reply) and reply.outcome == "answer", reply
            shown += renderings(reply)
            ask = "list processes matching mysql on vault-01"
            processes = await app.kernel.submit(InboundMessage(identity=ALICE, text=ask, channel="C1"))
            assert isinstance(processes, Reply) and processes.outcome == "answer", processes
            shown += renderings(processes)
            stored = await app.kernel.store.load(prompt.execution_id)
    finally:
        listed.kill()
        await listed.wait()
    logged = serve_logging.getvalue()

    # The target received the secret, the run succeeded, and the listing did see the process.
    assert (received / "mysql.args").read_text().splitlines()[1] == f"-p{secret}"
    assert f"ops:{secret}" in (received / "curl.args").read_text().splitlines()
    assert reply.result is not None and reply.result.status == "succeeded"
    assert reply.result.steps[0].results[0].output.stdout.strip() == "done"
    found = processes.result.steps[0].results[0].output.data["processes"]  # type: ignore[union-attr]
    assert any(p["pid"] == listed.pid and "-p[REDACTED]" in p["command"] for p in found)
    # What runs is the raw plan, kept sealed; what is shown is masked.
    assert stored is not None and secret in json.dumps(stored[0].model_dump())
    assert "-p[REDACTED]" in shown[0] and "ops:[REDACTED]" in shown[0]
    # asyncssh did log the command line (so the check below means something), redacted.
    assert "Command:" in logged and "[REDACTED]" in logged

    rows = await all_rows(database_url)
    assert "audit_log: " in rows and "approval.approved" in rows
    places = {"the log": logged, "the database rows": rows}
    places |= {f"rendering {i} ({text[:60]!r}...)": text for i, text in enumerate(shown)}
    assert [where for where, text in places.items() if secret in text] == []


def test_the_cli_json_and_its_database_mask_a_secret(tmp_path: Path, secret: str) -> None:
    """`opsconductor ask --json` as a user types it, on the embedded default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    env["OPSCONDUCTOR_HOME"] = str(tmp_path / "home")
    ask = f"run `mysql -uroot -p{secret} -e 'select 1'; curl -u ops:{secret} http://x/` on loopback-2"
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", ask],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    assert data["outcome"] == "awaiting_approval"
    command = data["plan"]["steps"][0]["args"]["command"]
    assert command == "mysql -uroot -p[REDACTED] -e 'select 1'; curl -u ops:[REDACTED] http://x/"
    assert secret not in proc.stdout + proc.stderr
    files = sorted((tmp_path / "home").glob("opsconductor.db*"))  # with its WAL
    assert files and not [f.name for f in files if secret.encode() in f.read_bytes()]
