"""Undo over the HTTP API: the Undo button's rules (a finished change, the undo window, the undoer's
own rights, its own approval, the audit naming the change undone), on SQLite and PostgreSQL. A
refusal because of the undoer's rights is 403; one because of the state of the change (not
finished, already undone, past its window) is a conflict, 409, with the reason in `detail`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.api.conftest import Api, api_settings, serve_api
from tests.adapters.api.test_api import assert_problem

UPDATE = {"steps": [{"tool": "assets.update", "targets": ["web-02"], "args": {"location": "lab-7"}}]}


async def changed(api: Api) -> str:
    """web-02 moved to lab-7 by adam, approved by bob; the finished execution's id."""
    _, body, _ = await api.call("POST", "/requests", as_="adam", json=UPDATE)
    execution_id = body["execution_id"]
    path = f"/executions/{execution_id}/approve"
    status, answer, _ = await api.call("POST", path, as_="bob", json={"digest": body["digest"]})
    assert status in (200, 202), answer
    await finished(api, execution_id)
    return str(execution_id)


async def finished(api: Api, execution_id: str) -> dict[str, Any]:
    for _ in range(200):
        _, detail, _ = await api.call("GET", f"/executions/{execution_id}")
        if detail["status"] in ("succeeded", "failed"):
            return dict(detail)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{execution_id} never finished")


async def test_undo_is_a_new_change_that_needs_its_own_approval_and_names_the_original(api: Api) -> None:
    original = await changed(api)
    asset = await api.app.assets.get("web-02")
    assert asset is not None and asset.location == "lab-7"

    for who in ("vera", "alice"):  # a viewer; an operator who may not manage assets
        status, body, resp = await api.call("POST", f"/executions/{original}/undo", as_=who)
        assert_problem(status, body, resp, 403)
    status, body, resp = await api.call("POST", f"/executions/{original}/undo", as_="adam")
    assert status == 202 and body["outcome"] == "awaiting_approval", body
    undo_id = body["execution_id"]
    assert undo_id != original and resp.headers["Location"] == f"/api/v1/executions/{undo_id}"
    _, detail, _ = await api.call("GET", f"/executions/{undo_id}")
    assert detail["person"] == "adam" and detail["steps"][0]["tool"] == "assets.update"
    assert original in detail["message"]

    status, answer, _ = await api.call(
        "POST", f"/executions/{undo_id}/approve", as_="bob", json={"digest": body["digest"]}
    )
    assert status in (200, 202), answer
    assert (await finished(api, undo_id))["status"] == "succeeded"
    asset = await api.app.assets.get("web-02")
    assert asset is not None and asset.location != "lab-7"  # back where it was
    _, records, _ = await api.call("GET", "/audit/records", params={"execution_id": undo_id})
    planned = [r for r in records["items"] if r["event"] == "plan"]
    assert planned and planned[0]["detail"]["undo_of"] == original and planned[0]["actor"] == "adam"


async def test_only_a_finished_change_that_exists_can_be_undone(api: Api) -> None:
    status, body, resp = await api.call("POST", "/executions/no-such-execution/undo", as_="adam")
    assert_problem(status, body, resp, 404)
    _, pending, _ = await api.call("POST", "/requests", as_="adam", json=UPDATE)
    status, body, resp = await api.call("POST", f"/executions/{pending['execution_id']}/undo", as_="adam")
    assert_problem(status, body, resp, 409)
    assert "has not finished (awaiting_approval)" in body["detail"]


async def test_a_change_already_undone_is_a_conflict_and_a_stranger_is_still_refused(api: Api) -> None:
    original = await changed(api)
    status, first, _ = await api.call("POST", f"/executions/{original}/undo", as_="adam")
    assert status == 202, first
    status, body, resp = await api.call("POST", f"/executions/{original}/undo", as_="adam")
    assert_problem(status, body, resp, 409)  # the first undo is waiting for its approval
    assert f"already undone by execution {first['execution_id']} (awaiting_approval)" in body["detail"]
    path = f"/executions/{first['execution_id']}/approve"
    status, answer, _ = await api.call("POST", path, as_="bob", json={"digest": first["digest"]})
    assert status in (200, 202), answer
    await finished(api, first["execution_id"])
    status, body, resp = await api.call("POST", f"/executions/{original}/undo", as_="adam")
    assert_problem(status, body, resp, 409)
    assert f"already undone by execution {first['execution_id']} (succeeded)" in body["detail"]
    _, records, _ = await api.call("GET", "/audit/records", params={"execution_id": original})
    assert [r["event"] for r in records["items"]].count("undo.refused") == 2
    _, page, _ = await api.call("GET", "/executions", params={"state": "awaiting_approval"})
    assert page["items"] == []  # neither refusal planned anything


@pytest.fixture
async def short_window(tmp_path: Path) -> AsyncIterator[Api]:
    settings = api_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/api.db", security={"undo_ttl_s": 1.0})
    async for running in serve_api(settings):
        yield running


async def test_the_undo_window_closes(short_window: Api) -> None:
    original = await changed(short_window)
    await asyncio.sleep(1.5)
    status, body, resp = await short_window.call("POST", f"/executions/{original}/undo", as_="adam")
    assert_problem(status, body, resp, 409)
    assert "undo window" in body["detail"]
    _, records, _ = await short_window.call("GET", "/audit/records", params={"execution_id": original})
    assert "undo.refused" in [r["event"] for r in records["items"]]
