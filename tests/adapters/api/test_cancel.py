"""Cancel over the HTTP API: the Cancel button's rules (the requester or an approver), and the
running command really stopped on its host (the real `serve` app, the testbed's real sshd)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.api.conftest import Api, api_settings, serve_api
from tests.adapters.api.test_api import assert_problem
from tests.adapters.api.test_undo import finished
from tests.integration.sshd_fixtures import in_testbed, sshd_testbed, testbed_known_hosts
from tests.integration.sshd_testbed import SshdTestbed
from tests.integration.target_processes import files_left, kill_groups, running, started

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]
pytestmark = [pytest.mark.sshd, pytest.mark.timeout(90)]


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "canary"
    yield path
    kill_groups(str(path))


@pytest.fixture
async def api(in_testbed: SshdTestbed, testbed_known_hosts: Path, tmp_path: Path) -> AsyncIterator[Api]:
    ssh = {
        "username": "root",
        "known_hosts": str(testbed_known_hosts),
        "client_keys": [str(in_testbed.client_key)],
        "connect_timeout_s": 5,
    }
    settings = api_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/api.db", ssh=ssh)
    async for running_api in serve_api(settings):
        yield running_api


def endless(canary: Path) -> dict[str, Any]:
    command = f"echo begin; tail -F {canary}.log 2>/dev/null; touch {canary}"
    step = {"tool": "automation.run_command", "targets": ["web-02"], "args": {"command": command}}
    return {"steps": [step]}


async def test_the_requester_cancels_a_running_command_over_the_api_a_viewer_may_not(
    api: Api, canary: Path
) -> None:
    _, asked, _ = await api.call("POST", "/requests", as_="alice", json=endless(canary))
    execution_id = asked["execution_id"]
    path = f"/executions/{execution_id}"
    status, _, _ = await api.call("POST", f"{path}/approve", as_="bob", json={"digest": asked["digest"]})
    assert status == 202
    assert await started(str(canary)), "the approved command never started"

    status, body, resp = await api.call("POST", f"{path}/cancel", as_="vera")
    assert_problem(status, body, resp, 403)
    assert "only the requester or an approver" in body["detail"]
    assert running(str(canary)), "a refused cancel stopped the command"

    status, body, _ = await api.call("POST", f"{path}/cancel", as_="alice")
    assert status == 202 and body["outcome"] == "cancelling", body
    detail = await finished(api, execution_id)
    assert detail["status"] == "failed"
    assert detail["steps"][0]["results"][0]["error"] == "cancelled by alice; it was stopped"
    assert running(str(canary)) == []
    status, body, resp = await api.call("POST", f"{path}/cancel", as_="alice")
    assert_problem(status, body, resp, 409)  # not running any more
    await asyncio.sleep(1.0)
    assert files_left(canary) == []
