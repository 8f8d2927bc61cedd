"""Start-up problems as a new operator meets them: one line on stderr naming the fix, a non-zero
exit, never a traceback. Every case is a real `opsconductor` process (tests/security/serve.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.security.serve import Serve, base_env, run_once

pytestmark = [pytest.mark.timeout(180)]

# An interpreter where the `chat` extra's distributions were never installed: their top-level
# modules cannot be found (what `pip install opsconductor` without `[chat]` leaves behind).
WITHOUT_CHAT_EXTRA = """
import sys
from importlib.machinery import PathFinder

CHAT_EXTRA = {"slack_bolt", "slack_sdk", "keycloak", "botbuilder", "botframework"}


class NotInstalled(PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] in CHAT_EXTRA:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled)
"""


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (asserting there is exactly one)."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.slow
def test_a_never_migrated_postgresql_names_db_upgrade_and_migrate_on_start_migrates(
    tmp_path: Path, fresh_postgres_url: str
) -> None:
    driverless = fresh_postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    assert driverless.startswith("postgresql://")  # no driver named: asyncpg is used
    env = base_env(tmp_path / "home", db__url=driverless)
    line = one_line(run_once(env, "ask", "ping 127.0.0.1"))
    assert "was never migrated" in line and "run `opsconductor db upgrade`" in line
    password = make_url(driverless).password
    assert "db.migrate_on_start" in line and not (password and str(password) in line)
    started = run_once({**env, "OPSCONDUCTOR_DB__MIGRATE_ON_START": "true"}, "ask", "ping 127.0.0.1")
    assert started.returncode == 0, started.stderr
    assert "network.ping" in started.stdout
    again = run_once(env, "ask", "ping 127.0.0.1")  # migrated now: no setting needed any more
    assert again.returncode == 0, again.stderr


def test_a_synchronous_driver_is_refused_in_words(tmp_path: Path) -> None:
    env = base_env(tmp_path / "home", db__url="postgresql+psycopg2://ops@127.0.0.1:9/ops")
    line = one_line(run_once(env, "ask", "help"))
    assert "psycopg2" in line and "postgresql+asyncpg://" in line


@pytest.mark.parametrize(
    ("name", "body", "line"),
    [
        ("bad.yaml", 'db:\n  url: "sqlite+aiosqlite:///x.db\n  echo: true\n', 4),
        ("bad.yaml", "db:\n  echo: true\n   pool_size: 3\n", 3),
        ("bad.toml", '[db]\necho = true\nurl = "unterminated\n', 3),
    ],
)
def test_a_malformed_config_file_is_named_with_its_line(
    tmp_path: Path, name: str, body: str, line: int
) -> None:
    config = tmp_path / name
    config.write_text(body)
    said = one_line(run_once(base_env(tmp_path / "home"), "--config", str(config), "ask", "help"))
    assert f"{config}:{line}: invalid " in said


def test_slack_without_a_token_names_our_setting(tmp_path: Path) -> None:
    env = base_env(tmp_path / "home", slack__enabled="true", slack__signing_secret="s" * 32)
    line = one_line(run_once(env, "serve"))
    assert "slack.bot_token" in line and "OPSCONDUCTOR_SLACK__BOT_TOKEN" in line
    assert " SLACK_BOT_TOKEN" not in line and "`token`" not in line


@pytest.mark.parametrize(
    ("settings", "setting", "command"),
    [
        (
            {"slack__enabled": "true", "slack__bot_token": "xoxb-1", "slack__signing_secret": "s" * 32},
            "slack.enabled",
            "serve",
        ),
        ({"teams__enabled": "true"}, "teams.enabled", "serve"),
        ({"keycloak__server_url": "http://127.0.0.1:9"}, "keycloak.server_url", "ask"),
    ],
)
def test_a_platform_without_the_chat_extra_names_the_extra(
    tmp_path: Path, settings: dict[str, str], setting: str, command: str
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(WITHOUT_CHAT_EXTRA)
    env = {**base_env(tmp_path / "home", **settings), "PYTHONPATH": str(site)}
    args = ["serve"] if command == "serve" else ["ask", "ping 127.0.0.1"]
    line = one_line(run_once({**env, "OPSCONDUCTOR_SERVER__PORT": "0"}, *args))
    assert setting in line and "`chat` extra" in line and "pip install 'opsconductor[chat]'" in line


def test_serve_without_a_chat_platform_says_so_at_start(tmp_path: Path) -> None:
    serve = Serve(base_env(tmp_path / "home"), tmp_path / "serve.log").start()
    try:
        said = serve.output()
    finally:
        serve.stop()
    assert "no chat platform is enabled" in said and "OPSCONDUCTOR_SLACK__ENABLED=true" in said
    assert "Traceback" not in said


def test_version_option_and_command_agree(tmp_path: Path) -> None:
    env = base_env(tmp_path / "home")
    option, command = run_once(env, "--version"), run_once(env, "version")
    assert option.returncode == 0 and command.returncode == 0, option.stderr + command.stderr
    assert option.stdout == command.stdout and option.stdout.startswith("opsconductor ")
