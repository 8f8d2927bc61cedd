"""Bot replicas and workers as real processes on loopback, sharing the test PostgreSQL and Redis.

`Cluster` starts `python -m bot serve` replicas (Slack adapter on, pointed at the Slack
stand-in in this process) and `python -m bot worker`s with `jobs.engine=arq`, signs Slack
requests as Slack does, and reads the database to see what ran. A webhook receiver here
stands for a notification target (the write tool `communication.notify`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.fakes.slack_api import TEAM, SlackApiStandIn
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "scaleout-signing-secret"
START_TIMEOUT_S = 30.0
ROLES = """
composites: {operator: [viewer]}
people:
  - name: alice
    roles: [operator]
    slack: alice@example.com
  - name: bob
    roles: [approver, viewer]
    slack: bob@example.com
"""


class Webhooks:
    """A notification receiver that records each delivery and answers after `hold_s`."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.received: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{name}", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.arrived.set()
        await asyncio.sleep(self.hold_s)
        return web.json_response({"ok": True})

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class Proc:
    role: str
    port: int
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    env: dict[str, str]
    workdir: Path
    api: SlackApiStandIn
    hooks: Webhooks
    db: AsyncEngine
    http: aiohttp.ClientSession
    procs: list[Proc] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: iter(range(1, 1_000_000)))

    # ------------------------------------------------------------------ processes

    async def start(self, role: str, **env_extra: str) -> Proc:
        """Start `python -m bot <role>`; `env_extra` overrides settings for this process alone."""
        port = free_port()
        log = self.workdir / f"{role}-{len(self.procs)}.log"
        env = {**self.env, **env_extra, "OPSCONDUCTOR_SERVER__PORT": str(port)}
        popen = spawn(role, env, log)
        proc = Proc(role, port, popen, log)
        self.procs.append(proc)
        await self.healthy(proc)
        return proc

    async def healthy(self, proc: Proc) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise AssertionError(f"{proc.role} exited: {proc.log.read_text()[-3000:]}")
            try:
                async with self.http.get(proc.base + "/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"{proc.role} never became healthy: {proc.log.read_text()[-3000:]}")

    def kill(self, proc: Proc) -> None:
        proc.popen.send_signal(signal.SIGKILL)
        proc.popen.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(timeout=5)

    # ------------------------------------------------------------------ Slack, signed

    async def post(
        self, proc: Proc, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> int:
        ts = str(int(time.time()))
        signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        async with self.http.post(proc.base + "/slack/events", data=body.encode(), headers=all_headers) as r:
            await r.read()
            return r.status

    def mention_body(self, text: str, event_id: str, user: str = "U1") -> str:
        ts = f"1700000000.{next(self._ids):06d}"
        event = {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "ts": ts, "channel": "C1"}
        body = {
            "type": "event_callback",
            "team_id": TEAM,
            "api_app_id": "A1",
            "event": event,
            "event_id": event_id,
            "event_time": int(time.time()),
        }
        return json.dumps(body)

    async def event(self, proc: Proc, body: str, retry: int = 0) -> int:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(proc, body, "application/json", headers)

    async def click(
        self, proc: Proc, execution_id: str, user: str = "U2", action_id: str = "opsconductor_approve"
    ) -> int:
        """A button on one of the bot's messages (Approve by default) clicked in Slack."""
        n = next(self._ids)
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "test"},
            "user": {"id": user, "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A1",
            "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C1"},
            "channel": {"id": "C1", "name": "ops"},
            "message": {"type": "message", "ts": "1700000000.000001", "text": "Approval needed"},
            "response_url": self.api.response_url(f"act{n}"),
            "trigger_id": f"trig.{n}",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "opsconductor_approval",
                    "value": execution_id,
                    "action_ts": f"1700000100.{n:06d}",
                }
            ],
        }
        return await self.post(
            proc, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )

    # ------------------------------------------------------------------ the database

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.db.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def wait_for(self, sql: str, until: Any, timeout_s: float = 40.0, **params: Any) -> list[Any]:
        """Poll `sql` until `until(rows)` holds (bounded: the test fails after `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        rows: list[Any] = []
        while time.monotonic() < deadline:
            rows = await self.rows(sql, **params)
            if until(rows):
                return rows
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting; last rows: {rows}; logs: {self.tails()}")

    def tails(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.log.read_text()[-1500:]}" for p in self.procs)


def spawn(role: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", role], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def subprocess_env(
    workdir: Path, postgres_url: str, redis_url: str, api_url: str, hooks_port: int
) -> dict[str, str]:
    roles = workdir / "roles.yaml"
    roles.write_text(ROLES)
    keep = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    return {
        **keep,
        "OPSCONDUCTOR_HOME": str(workdir / "home"),
        "OPSCONDUCTOR_DB__URL": postgres_url,
        "OPSCONDUCTOR_REDIS__URL": redis_url,
        "OPSCONDUCTOR_REDIS__KEY_PREFIX": "scaleout:",
        "OPSCONDUCTOR_JOBS__ENGINE": "arq",
        "OPSCONDUCTOR_JOBS__LEASE_S": "3",
        "OPSCONDUCTOR_JOBS__POLL_S": "0.05",
        "OPSCONDUCTOR_JOBS__JOB_TIMEOUT_S": "60",
        "OPSCONDUCTOR_SLACK__ENABLED": "true",
        "OPSCONDUCTOR_SLACK__SIGNING_SECRET": SECRET,
        "OPSCONDUCTOR_SLACK__BOT_TOKEN": "xoxb-scaleout",
        "OPSCONDUCTOR_SLACK__API_BASE_URL": api_url,
        "OPSCONDUCTOR_SECURITY__ROLES_FILE": str(roles),
        "OPSCONDUCTOR_SECURITY__CREDENTIAL_KEY": base64.b64encode(b"k" * 32).decode(),
        "OPSCONDUCTOR_NOTIFY__CHANNELS": json.dumps({"webhook:#ops": f"json://127.0.0.1:{hooks_port}/ops"}),
        "OPSCONDUCTOR_NOTIFY__RETRIES": "0",
    }


@pytest.fixture
async def cluster(fresh_postgres_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    api = SlackApiStandIn()
    api_url = await api.start()
    api.add_user("U1", "alice@example.com", "alice")
    api.add_user("U2", "bob@example.com", "bob")
    hooks = Webhooks(hold_s=2.0)
    await hooks.start()
    env = subprocess_env(tmp_path, fresh_postgres_url, redis_url, api_url, hooks.port)
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "upgrade", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await migrate.communicate()
    assert migrate.returncode == 0, out.decode()
    db = create_async_engine(fresh_postgres_url)
    async with aiohttp.ClientSession() as http:
        cluster = Cluster(env, tmp_path, api, hooks, db, http)
        try:
            yield cluster
        finally:
            await asyncio.to_thread(cluster.stop_all)
            await db.dispose()
            await hooks.close()
            await api.close()
