"""The chat setup guides followed as written, from a fresh clone with a fresh HOME: their shell
blocks run in a real shell (only the values a person would paste are replaced: secrets, URLs,
ports, and Slack's and Microsoft's clouds by the stand-ins the adapter tests use), then the
bot answers a signed request the way the platform would send it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.bot_connector import BotConnectorStandIn
from tests.fakes.entra_login import TENANT, EntraLoginStandIn
from tests.fakes.openid_server import OpenIdStandIn
from tests.fakes.slack_api import TEAM, SlackApiStandIn
from tests.services import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "guide-signing-secret-0123456789"
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def section(guide: str, heading: str) -> str:
    """The text of the guide's section that starts with `heading` (up to the next ## heading)."""
    start = guide.index(f"\n## {heading}")
    end = guide.find("\n## ", start + 4)
    return guide[start : end if end != -1 else len(guide)]


def guide_script(blocks: list[str], values: dict[str, str]) -> tuple[str, list[str]]:
    """The blocks as one script with the values a person would fill in (`values`: the setting ->
    value), and the settings the guide exports. Every exported setting must get a value or keep
    the guide's own (a setting the guide names and the test does not know fails the test)."""
    lines: list[str] = []
    exported: list[str] = []
    for line in "\n".join(blocks).splitlines():
        found = re.match(r"export (OPSCONDUCTOR_\w+)=(\S*)", line)
        if found:
            exported.append(found[1])
            value = values.get(found[1], found[2])
            assert "..." not in value and "<" not in value, f"the test gives no value for {found[1]}"
            lines.append(f"export {found[1]}={json.dumps(value)}")
        elif line.startswith("opsconductor serve"):
            lines.append("exec opsconductor serve")  # runs until the test stops it
        else:
            lines.append(line)
    return "\n".join(lines) + "\n", exported


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone of this checkout's HEAD (what a newcomer gets from `git clone`)."""
    target = tmp_path / "opsconductor"
    clone = ["git", "-c", "advice.detachedHead=false", "clone", "--quiet", str(ROOT), str(target)]
    subprocess.run(clone, check=True, timeout=120)
    return target


def newcomer_env(tmp_path: Path, clone: Path) -> dict[str, str]:
    """A fresh HOME and no OPSCONDUCTOR_* settings; `.venv/bin/pip install -e ".[chat]"` is this
    test run's interpreter (it has the extra), reached through the clone's `.venv/bin`."""
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = clone / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "pip").write_text("#!/bin/sh\nexit 0\n")  # the extra is installed already
    (bin_dir / "opsconductor").write_text(f'#!/bin/sh\nexec {sys.executable} -m bot "$@"\n')
    for tool in ("pip", "opsconductor"):
        (bin_dir / tool).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    env.update({"HOME": str(home), "PYTHONPATH": str(clone)})
    return env


@pytest.fixture
async def slack() -> AsyncIterator[SlackApiStandIn]:
    stand_in = SlackApiStandIn()
    await stand_in.start()
    yield stand_in
    await stand_in.close()


@pytest.fixture
def serving() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for popen in started:
        if popen.poll() is None:
            popen.terminate()
            try:
                popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(timeout=10)


def start_guide(script: str, clone: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Run the guide's script in bash until the bot it starts is listening (or it exited)."""
    with log.open("wb") as out:
        popen = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and "listening on" not in log.read_text(errors="replace"):
        if popen.poll() is not None:
            break
        time.sleep(0.2)
    return popen


async def until(check: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    for _ in range(int(timeout_s / 0.2)):
        if check():
            return True
        await asyncio.sleep(0.2)
    return check()


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


async def test_the_slack_guide_works_as_written(
    tmp_path: Path,
    clone: Path,
    slack: SlackApiStandIn,
    fresh_postgres_url: str,
    serving: list[subprocess.Popen[bytes]],
) -> None:
    guide = (clone / "docs" / "slack" / "INSTALL.md").read_text()
    roles_yaml = YAML_BLOCK.findall(section(guide, "5. Let people in"))[0]
    roles = tmp_path / "roles.yaml"  # step 5's example, with the stand-in workspace's ids
    roles.write_text(roles_yaml.replace("T0123ABCD:U0456EFGH", f"{TEAM}:U1"))
    port = free_port()
    values = {
        "OPSCONDUCTOR_SLACK__BOT_TOKEN": "xoxb-guide-test-token",
        "OPSCONDUCTOR_SLACK__SIGNING_SECRET": SIGNING_SECRET,
        "OPSCONDUCTOR_SLACK__API_BASE_URL": slack.base + "/api/",
        "OPSCONDUCTOR_DB__URL": fresh_postgres_url.replace("postgresql+asyncpg://", "postgresql://"),
        "OPSCONDUCTOR_SECURITY__CREDENTIAL_KEY": base64.b64encode(os.urandom(32)).decode(),
        "OPSCONDUCTOR_SECURITY__ROLES_FILE": str(roles),
        "OPSCONDUCTOR_SERVER__HOST": "127.0.0.1",
        "OPSCONDUCTOR_SERVER__PORT": str(port),
    }
    step3 = section(guide, "3. Configure and start the bot (HTTP mode)")
    script, exported = guide_script(SHELL_BLOCK.findall(step3), values)
    assert "OPSCONDUCTOR_SECURITY__ENVIRONMENT" in exported  # the guide sets up production
    for needed in ("CREDENTIAL_KEY", "API_BASE_URL", "DB__URL", "ROLES_FILE"):
        assert any(name.endswith(needed) for name in exported), f"the guide never sets {needed}"
    log = tmp_path / "serve.log"
    env = newcomer_env(tmp_path, clone)
    serving.append(await asyncio.to_thread(start_guide, script, clone, env, log))
    said = await asyncio.to_thread(log.read_text, errors="replace")
    assert "listening on" in said, said[-3000:]
    assert "latest revision" in said  # `opsconductor db upgrade` ran first

    text = "<@UBOT> ping 127.0.0.1"
    event = {"type": "app_mention", "user": "U1", "text": text, "ts": "1.1", "channel": "C1"}
    body = json.dumps({"type": "event_callback", "team_id": TEAM, "event": event, "event_id": "Ev1"})
    url = f"http://127.0.0.1:{port}/slack/events"
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=signed(body)) as r:
        assert r.status == 200
    assert await until(lambda: _answered(slack)), slack.methods()
    said = await asyncio.to_thread(log.read_text, errors="replace")
    assert "Traceback" not in said


def _answered(slack: SlackApiStandIn) -> bool:
    shown = json.dumps([c.args for c in slack.of("chat.postMessage") + slack.of("chat.update")])
    return "network.ping" in shown and "127.0.0.1" in shown


APP_ID = "6a1f0c9e-0000-4d1e-9c3a-00000000c0de"
APP_PASSWORD = "guide-client-secret-value"


@pytest.fixture
def entra(tmp_path: Path) -> Iterator[EntraLoginStandIn]:
    (tmp_path / "entra").mkdir()
    stand_in = EntraLoginStandIn(tmp_path / "entra", APP_ID, APP_PASSWORD)
    stand_in.start()
    yield stand_in
    stand_in.close()


@pytest.fixture
def openid() -> Iterator[OpenIdStandIn]:
    stand_in = OpenIdStandIn()
    stand_in.start()
    yield stand_in
    stand_in.close()


async def test_the_teams_guide_works_as_written(
    tmp_path: Path,
    clone: Path,
    entra: EntraLoginStandIn,
    openid: OpenIdStandIn,
    fresh_postgres_url: str,
    serving: list[subprocess.Popen[bytes]],
) -> None:
    """Step 2 with its sovereign-cloud block pointing the bot at the stand-ins for Microsoft's
    cloud (Entra login over TLS, the Bot Framework's OpenID metadata, the Bot Connector)."""
    connector = BotConnectorStandIn(authorize=lambda header: header in {f"Bearer {t}" for t in entra.issued})
    await connector.start()
    connector.add_member("29:1alice", "aad-alice", "Alice", "alice@contoso.com")
    guide = (clone / "docs" / "teams" / "INSTALL.md").read_text()
    step2 = section(guide, "2. Configure and start the bot")
    roles = tmp_path / "roles.yaml"
    roles.write_text(YAML_BLOCK.findall(step2)[0])  # the guide's own example: alice by e-mail
    install, config, _certificate, clouds = SHELL_BLOCK.findall(step2)
    port = free_port()
    values = {
        "OPSCONDUCTOR_TEAMS__APP_ID": APP_ID,
        "OPSCONDUCTOR_TEAMS__APP_PASSWORD": APP_PASSWORD,
        "OPSCONDUCTOR_TEAMS__APP_TENANT_ID": TENANT,
        "OPSCONDUCTOR_TEAMS__ALLOWED_TENANTS": json.dumps([TENANT]),
        "OPSCONDUCTOR_TEAMS__LOGIN_AUTHORITY": entra.authority,
        "OPSCONDUCTOR_TEAMS__OAUTH_SCOPE": "https://api.botframework.com",  # the stand-in's issuer
        "OPSCONDUCTOR_TEAMS__OPENID_METADATA_URL": openid.metadata_url,
        "OPSCONDUCTOR_DB__URL": fresh_postgres_url.replace("postgresql+asyncpg://", "postgresql://"),
        "OPSCONDUCTOR_SECURITY__CREDENTIAL_KEY": base64.b64encode(os.urandom(32)).decode(),
        "OPSCONDUCTOR_SECURITY__ROLES_FILE": str(roles),
        "OPSCONDUCTOR_SERVER__HOST": "127.0.0.1",
        "OPSCONDUCTOR_SERVER__PORT": str(port),
    }
    script, exported = guide_script([install, clouds, config], values)
    for needed in ("CREDENTIAL_KEY", "DB__URL", "ROLES_FILE", "ENVIRONMENT", "APP_PASSWORD"):
        assert any(name.endswith(needed) for name in exported), f"the guide never sets {needed}"
    env = {**newcomer_env(tmp_path, clone), "REQUESTS_CA_BUNDLE": str(entra.ca_path)}  # trusts the login
    log = tmp_path / "serve.log"
    try:
        serving.append(await asyncio.to_thread(start_guide, script, clone, env, log))
        said = await asyncio.to_thread(log.read_text, errors="replace")
        assert "listening on" in said and "latest revision" in said, said[-3000:]
        message = {
            "type": "message",
            "id": "act-guide-1",
            "serviceUrl": connector.base,
            "channelId": "msteams",
            "from": {"id": "29:1alice", "name": "Alice", "aadObjectId": "aad-alice"},
            "recipient": {"id": f"28:{APP_ID}", "name": "OpsConductor"},
            "conversation": {"conversationType": "personal", "id": "a:1guide"},
            "channelData": {"tenant": {"id": TENANT}},
            "text": "ping 127.0.0.1",
        }
        token = openid.sign(openid.claims(APP_ID, connector.base))
        url = f"http://127.0.0.1:{port}/api/messages"
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as http, http.post(url, json=message, headers=headers) as r:
            assert r.status in (200, 201, 202), await r.text()
        shown = lambda: "network.ping" in json.dumps([c.body for c in connector.calls])  # noqa: E731
        await asyncio.wait_for(connector.until(shown), 60)
        assert connector.unexpected == [] and entra.unexpected == []
        said = await asyncio.to_thread(log.read_text, errors="replace")
        assert "Traceback" not in said
    finally:
        await connector.close()
