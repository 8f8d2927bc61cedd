"""`opsconductor serve` as an operator starts it: a real process on a free loopback port, with
settings only from the environment, its log captured, stopped with SIGTERM (then killed)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]


def base_env(home: Path, **settings: str) -> dict[str, str]:
    """This process's environment without OPSCONDUCTOR_* variables, plus `settings`
    (`teams__app_id="x"` becomes OPSCONDUCTOR_TEAMS__APP_ID=x)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    env["OPSCONDUCTOR_HOME"] = str(home)
    env.update({f"OPSCONDUCTOR_{k.upper()}": v for k, v in settings.items()})
    return env


def production(home: Path, **settings: str) -> dict[str, str]:
    """Production mode with a real credential key; SQLite under `home` keeps start-up quick."""
    key = base64.b64encode(os.urandom(32)).decode()
    return base_env(home, security__environment="production", security__credential_key=key, **settings)


def run_once(
    env: dict[str, str], *args: str, timeout: float = 60, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `opsconductor ARGS` to completion (`prefix`: e.g. unshare for a private mount)."""
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Serve:
    """`opsconductor serve` in the background; `url` once `started()` returned."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.env = {**env, "OPSCONDUCTOR_SERVER__PORT": str(self.port)}
        self.url = f"http://127.0.0.1:{self.port}"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> Serve:
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "listening on" in self.output():
                return self
            if self.popen.poll() is not None:
                raise AssertionError(f"serve exited {self.popen.returncode}: {self.output()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"serve did not start: {self.output()[-3000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
