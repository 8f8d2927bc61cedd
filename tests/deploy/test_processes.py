"""The image's entry point run directly here: `opsconductor db upgrade`, then `serve` and `worker`
against the test PostgreSQL and Redis answer /health, and stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.services import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
ENTRY_POINT = Path(sys.executable).parent / "opsconductor"


@pytest.fixture
def env(fresh_postgres_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    env = {
        **keep,
        "OPSCONDUCTOR_HOME": str(tmp_path),
        "OPSCONDUCTOR_DB__URL": fresh_postgres_url,
        "OPSCONDUCTOR_REDIS__URL": redis_url,
        "OPSCONDUCTOR_JOBS__ENGINE": "arq",
        "OPSCONDUCTOR_SECURITY__ENVIRONMENT": "production",
        "OPSCONDUCTOR_SECURITY__CREDENTIAL_KEY": base64.b64encode(os.urandom(32)).decode(),
    }
    done = subprocess.run(
        [str(ENTRY_POINT), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "latest revision" in done.stdout
    return env


@pytest.fixture
def started(env: dict[str, str], tmp_path: Path) -> Iterator[list[tuple[str, int, subprocess.Popen[bytes]]]]:
    procs: list[tuple[str, int, subprocess.Popen[bytes]]] = []
    for command in ("serve", "worker"):
        port = free_port()
        with (tmp_path / f"{command}.log").open("wb") as log:
            popen = subprocess.Popen(
                [str(ENTRY_POINT), command],
                env={**env, "OPSCONDUCTOR_SERVER__PORT": str(port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        procs.append((command, port, popen))
        # one after the other: the first start-up seeds shared rows (demo inventory, templates)
        wait_for_line(tmp_path / f"{command}.log", "listening on", popen)
    yield procs
    for _, _, popen in procs:
        if popen.poll() is None:
            popen.kill()
            popen.wait(timeout=10)


def wait_for_line(log: Path, text: str, popen: subprocess.Popen[bytes], timeout_s: float = 40.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and popen.poll() is None:
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{log.name}: no {text!r}: {log.read_text(errors='replace')[-2000:]}")


async def health(http: aiohttp.ClientSession, port: int, popen: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert popen.poll() is None, "process exited"
        try:
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                if response.status == 200:
                    body: dict[str, object] = await response.json()
                    return body
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("no healthy answer")


async def test_serve_and_worker_answer_health_and_stop_on_sigterm(
    started: list[tuple[str, int, subprocess.Popen[bytes]]], tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        for command, port, popen in started:
            body = await health(http, port, popen)
            assert body == {"status": "ok", "checks": {"db": "ok", "redis": "ok"}}, command
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = await response.text()
            assert "opsconductor_http_requests_total" in metrics
            if command == "serve":
                assert "opsconductor_step_queue_depth 0.0" in metrics
    for command, _, popen in started:
        popen.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(popen.wait, 30)
        assert code == 0, (command, (tmp_path / f"{command}.log").read_text()[-2000:])
    logs = (tmp_path / "worker.log").read_text().splitlines()
    assert any('"role": "worker"' in line and '"request_id"' in line for line in logs)
