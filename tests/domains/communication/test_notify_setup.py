"""A notification whose channel is not configured is said when it is asked for, before anyone is
asked to approve it; configured (NOTIFY__CHANNELS, as docs/operations.md shows), it is prompted,
approved and delivered to the real local SMTP server. Real `opsconductor` processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.domains.communication.conftest import Mailbox, Webhooks

pytestmark = [pytest.mark.timeout(180)]
ROOT = Path(__file__).resolve().parents[3]


async def opsconductor(home: Path, *args: str, **settings: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    env["OPSCONDUCTOR_HOME"] = str(home)
    env.update({f"OPSCONDUCTOR_{k.upper()}": v for k, v in settings.items()})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def ask(home: Path, text: str, **settings: str) -> dict[str, Any]:
    code, out, err = await opsconductor(home, "ask", "--json", text, **settings)
    assert code == 0, err
    return dict(json.loads(out))


@pytest.mark.parametrize(
    "text",
    ["email oncall@example.com that the backup finished", "notify #ops that the deploy is done"],
)
async def test_an_unconfigured_channel_is_said_before_any_approval(tmp_path: Path, text: str) -> None:
    reply = await ask(tmp_path / "home", text)
    assert reply["outcome"] == "clarify" and not reply["needs_approval"]
    assert "is configured" in reply["summary"] and "OPSCONDUCTOR_NOTIFY__CHANNELS" in reply["summary"]


async def test_a_configured_email_channel_is_prompted_approved_and_delivered(
    tmp_path: Path, smtp_server: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp_server
    channels = json.dumps({"email": f"mailto://127.0.0.1:{port}?from=bot@example.test&mode=insecure"})
    home = tmp_path / "home"
    asked = await ask(home, "email oncall@example.com that the backup finished", notify__channels=channels)
    assert asked["outcome"] == "awaiting_approval", asked["summary"]
    code, out, err = await opsconductor(home, "approve", asked["execution_id"], notify__channels=channels)
    assert code == 0, out + err
    [(recipients, mail)] = mailbox.mails
    assert recipients == ["oncall@example.com"] and "backup finished" in str(mail.get_payload())


async def test_a_named_teams_channel_is_checked_by_name(
    tmp_path: Path, webhook_server: tuple[int, Webhooks]
) -> None:
    port, hooks = webhook_server  # the HTTP receiver stands where the Teams workflow URL would be
    channels = json.dumps({"teams:platform": f"json://127.0.0.1:{port}/platform"})
    home = tmp_path / "home"
    unknown = await ask(home, "tell the service desk on teams that web-02 is back", notify__channels=channels)
    assert unknown["outcome"] == "clarify" and "configured: platform" in unknown["summary"]
    known = await ask(home, "tell platform on teams that web-02 is back", notify__channels=channels)
    assert known["outcome"] == "awaiting_approval", known["summary"]
    code, out, err = await opsconductor(home, "approve", known["execution_id"], notify__channels=channels)
    assert code == 0, out + err
    assert "web-02 is back" in json.dumps(hooks.received["platform"])
