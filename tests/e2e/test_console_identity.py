"""Who the console user is: the OS account behind the process's uid, never LOGNAME/USER.

Real `opsconductor` processes on the embedded default; with Keycloak, the Keycloak stand-in
(no Keycloak server runs here) on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.test_cli import ROOT, opsconductor, text
from tests.fakes.keycloak_server import FakeUser, KeycloakStandIn

ME = pwd.getpwuid(os.getuid()).pw_name


def test_another_name_in_logname_cannot_approve_my_own_critical_plan(tmp_path: Path) -> None:
    """`LOGNAME=bob USER=bob opsconductor approve ID` from the requester's uid is self-approval."""
    home = tmp_path / "home"
    asked = opsconductor(home, "ask", "--json", "reboot localhost", env={"LOGNAME": "alice", "USER": "alice"})
    out, err = text(asked)
    assert asked.returncode == 0, err
    prompt = json.loads(out)
    assert prompt["outcome"] == "awaiting_approval" and prompt["four_eyes"] is True

    approved = opsconductor(
        home, "approve", "--json", prompt["execution_id"], env={"LOGNAME": "bob", "USER": "bob"}
    )
    out, err = text(approved)
    assert approved.returncode == 4, out + err
    reply = json.loads(out)
    assert reply["outcome"] == "refused"
    assert "cannot approve your own request" in reply["summary"]
    assert "Traceback" not in out + err


def test_an_os_account_the_roles_file_does_not_list_is_told_how_to_map_it(tmp_path: Path) -> None:
    roles = tmp_path / "roles.yaml"
    roles.write_text(
        "people:\n  - name: someone\n    roles: [operator]\n    console: someone-else\n", encoding="utf-8"
    )
    proc = opsconductor(
        tmp_path / "home",
        "ask",
        "ping 127.0.0.1",
        env={"OPSCONDUCTOR_SECURITY__ROLES_FILE": str(roles), "LOGNAME": "someone-else"},
    )
    out, err = text(proc)
    assert proc.returncode == 4, out + err
    assert "don't know who you are" in out
    assert f"OS account '{ME}'" in err and f"console: {ME}" in err and str(roles) in err
    assert "Traceback" not in out + err


async def keycloak_cli(home: Path, server: KeycloakStandIn, *args: str) -> tuple[int, str, str]:
    """Run the real CLI against the stand-in; the stand-in keeps serving on this event loop."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    env |= {
        "OPSCONDUCTOR_HOME": str(home),
        "OPSCONDUCTOR_KEYCLOAK__SERVER_URL": server.url,
        "OPSCONDUCTOR_KEYCLOAK__REALM": server.realm,
        "OPSCONDUCTOR_KEYCLOAK__CLIENT_ID": server.client_id,
        "OPSCONDUCTOR_KEYCLOAK__CLIENT_SECRET": server.client_secret,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def keycloak() -> AsyncIterator[KeycloakStandIn]:
    server = KeycloakStandIn()
    await server.start()
    yield server
    await server.stop()
    assert server.unexpected == []


async def test_with_keycloak_the_console_user_is_mapped_by_its_os_account(
    tmp_path: Path, keycloak: KeycloakStandIn
) -> None:
    home = tmp_path / "home"
    code, out, err = await keycloak_cli(home, keycloak, "ask", "ping 127.0.0.1")
    assert code == 4, out + err
    assert "don't know who you are" in out
    assert f"OS account '{ME}'" in err and "console_user" in err and keycloak.url in err
    assert "Traceback" not in out + err

    keycloak.add_user(
        FakeUser(username="ops", attributes={"console_user": [ME]}, realm_roles=["viewer", "operator"])
    )
    code, out, err = await keycloak_cli(home, keycloak, "ask", "ping 127.0.0.1")
    assert code == 0, out + err
    assert "loss" in out and err.strip() == ""
