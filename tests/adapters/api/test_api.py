"""The HTTP API over real HTTP on loopback, with the real kernel, policy, store and audit,
on SQLite and on PostgreSQL (the `api` fixture runs each test on both)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from openapi_spec_validator import validate

from db.api_tokens import SqlApiTokens
from db.types import utcnow
from pipeline.contracts import ChatIdentity, InboundMessage
from tests.adapters.api.conftest import Api

PROBLEM = "application/problem+json"
RESTART = {
    "steps": [
        {
            "tool": "automation.service_control",
            "targets": ["web-01"],
            "args": {"service": "nginx", "action": "restart"},
        }
    ]
}


def assert_problem(status: int, body: Any, resp: Any, expected: int) -> None:
    assert status == expected, body
    assert resp.content_type == PROBLEM
    assert body["status"] == expected and body["title"] and "detail" in body


async def operations(api: Api) -> list[tuple[str, str]]:
    status, doc, _ = await api.call("GET", "/openapi.json", as_=None)
    assert status == 200
    found = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            if op.get("security") != []:
                found.append((method.upper(), re.sub(r"{[a-z_]+}", "x1", path.removeprefix("/api/v1"))))
    return found


async def test_served_document_is_valid_openapi_31_with_local_docs(api: Api) -> None:
    status, doc, _ = await api.call("GET", "/openapi.json", as_=None)
    assert status == 200 and doc["openapi"] == "3.1.0"
    validate(doc)  # raises on an invalid OpenAPI 3.1 document
    paths = doc["paths"]
    for path in (
        "/api/v1/requests",
        "/api/v1/executions/{execution_id}/approve",
        "/api/v1/assets/import",
        "/api/v1/audit/verify",
        "/api/v1/tools",
    ):
        assert path in paths
    assert "Idempotency-Key" in [p["name"] for p in paths["/api/v1/requests"]["post"]["parameters"]]
    assert "Problem" in doc["components"]["schemas"]
    status, page, resp = await api.call("GET", "/docs", as_=None)
    assert status == 200 and resp.content_type == "text/html"
    assert b"http://" not in page and b"https://" not in page  # nothing from a CDN
    for asset in re.findall(rb'(?:src|href)="([^"]+)"', page):
        status, _, _ = await api.call("GET", asset.decode().removeprefix("/api/v1"), as_=None)
        assert status == 200, asset


async def test_every_endpoint_refuses_missing_forged_expired_and_revoked_tokens(api: Api) -> None:
    tokens = SqlApiTokens(api.app.sessions)  # type: ignore[arg-type]
    revoked_record, revoked = await tokens.create("alice", ["operator", "viewer"])
    assert await tokens.revoke(revoked_record.id)
    expired = await api.token("alice", ["operator"], expires_at=utcnow() - timedelta(seconds=1))
    real = api.tokens["alice"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    ops = await operations(api)
    assert len(ops) >= 15
    for method, path in ops:
        for bad in (
            None,
            "Bearer",
            "Basic YWxpY2U6eA==",
            f"Bearer {forged}",
            f"Bearer {expired}",
            f"Bearer {revoked}",
            "Bearer oct_x_y",
        ):
            headers = {} if bad is None else {"Authorization": bad}
            status, body, resp = await api.call(method, path, as_=None, headers=headers, json={})
            assert_problem(status, body, resp, 401)
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_submit_text_and_typed_plans_and_read_history_with_filters(api: Api) -> None:
    status, body, _ = await api.call("POST", "/requests", json={"text": "list the web servers"})
    assert status == 200 and body["outcome"] == "answer", body
    read_id = body["execution_id"]
    assert {s["title"] for s in body["sections"]} == {"web-01", "web-02"}
    status, body, _ = await api.call(
        "POST",
        "/requests",
        as_="vera",
        json={"steps": [{"tool": "assets.query", "targets": ["db-01"]}]},
    )
    assert status == 200 and body["outcome"] == "answer", body
    typed_id = body["execution_id"]

    status, page, _ = await api.call("GET", "/executions", params={"person": "vera"})
    assert [e["id"] for e in page["items"]] == [typed_id]
    assert page["items"][0]["tools"] == ["assets.query"] and page["items"][0]["targets"] == ["db-01"]
    _, page, _ = await api.call("GET", "/executions", params={"target": "web-02"})
    assert [e["id"] for e in page["items"]] == [read_id]
    _, page, _ = await api.call("GET", "/executions", params={"tool": "assets.query", "state": "succeeded"})
    assert {e["id"] for e in page["items"]} == {read_id, typed_id}
    future = (utcnow() + timedelta(minutes=5)).isoformat()
    _, page, _ = await api.call("GET", "/executions", params={"since": future})
    assert page["items"] == []
    status, body, resp = await api.call("GET", "/executions", params={"state": "x", "colour": "red"})
    assert_problem(status, body, resp, 422)

    status, detail, _ = await api.call("GET", f"/executions/{read_id}")
    assert status == 200 and detail["person"] == "alice" and detail["status"] == "succeeded"
    (step,) = detail["steps"]
    assert step["tool"] == "assets.query" and {r["target"] for r in step["results"]} == {"web-01", "web-02"}
    assert all(r["status"] == "ok" for r in step["results"])
    events = [a["event"] for a in detail["audit"]]
    assert events[0] == "plan" and "step.result" in events and events[-1] == "execution.finished"
    status, body, resp = await api.call("GET", "/executions/0123456789abcdef0123456789abcdef")
    assert_problem(status, body, resp, 404)


async def test_approval_follows_the_button_rules(api: Api) -> None:
    status, body, resp = await api.call("POST", "/requests", json=RESTART)
    assert status == 202 and body["outcome"] == "awaiting_approval", body
    execution_id, digest = body["execution_id"], body["digest"]
    assert resp.headers["Location"] == f"/api/v1/executions/{execution_id}"
    _, detail, _ = await api.call("GET", f"/executions/{execution_id}")
    assert detail["approval"]["state"] == "pending" and detail["approval"]["digest"] == digest

    path = f"/executions/{execution_id}/approve"
    for who in ("alice", "vera"):  # the requester is no approver; a viewer cannot approve
        status, body, resp = await api.call("POST", path, as_=who, json={"digest": digest})
        assert_problem(status, body, resp, 403)
    status, body, resp = await api.call("POST", path, as_="bob", json={"digest": "0" * 64})
    assert_problem(status, body, resp, 409)  # not the plan that is waiting
    status, body, resp = await api.call("POST", path, as_="bob", json={})
    assert_problem(status, body, resp, 409)
    status, body, _ = await api.call("POST", path, as_="bob", json={"digest": digest})
    assert status in (200, 202) and body["state"] == "approved", body
    status, body, resp = await api.call("POST", path, as_="adam", json={"digest": digest})
    assert_problem(status, body, resp, 409)
    assert "already approved by bob" in body["detail"]
    _, records, _ = await api.call("GET", "/audit/records", params={"execution_id": execution_id})
    approved = [r for r in records["items"] if r["event"] == "approval.approved"]
    assert [r["actor"] for r in approved] == ["bob"]


async def test_a_plan_asked_for_in_slack_is_decided_over_the_api(api: Api) -> None:
    slack = ChatIdentity(platform="slack", tenant="T1", user_id="UALICE")
    prompt = await api.app.kernel.submit(
        InboundMessage(identity=slack, text="restart nginx on web-01", channel="C1")
    )
    execution_id = prompt.execution_id
    status, body, _ = await api.call("POST", f"/executions/{execution_id}/reject", as_="bob", json={})
    assert status == 200 and body["state"] == "rejected", body
    _, detail, _ = await api.call("GET", f"/executions/{execution_id}")
    assert detail["status"] == "rejected" and detail["platform"] == "slack"


async def test_a_viewer_cannot_change_anything(api: Api) -> None:
    attempts = [
        ("POST", "/assets", {"name": "x-01", "address": "127.0.0.20"}),
        ("PATCH", "/assets/web-01", {"location": "lab"}),
        ("DELETE", "/assets/web-01", None),
        ("POST", "/assets/import", {"assets": [{"name": "x-02", "address": "127.0.0.21"}]}),
        ("PUT", "/assets/web-01/credentials/password", {"username": "root", "secret": "hunter22"}),
        ("GET", "/assets/web-01/credentials", None),
    ]
    for method, path, body in attempts:
        status, answer, resp = await api.call(method, path, as_="vera", json=body)
        assert_problem(status, answer, resp, 403)
    status, answer, resp = await api.call("POST", "/requests", as_="vera", json=RESTART)
    assert_problem(status, answer, resp, 403)
    assert answer["execution_id"]
    _, page, _ = await api.call("GET", "/assets")
    assert {a["name"] for a in page["items"]} == {"web-01", "web-02", "db-01"}


async def test_assets_crud_import_and_credentials_that_never_come_back(api: Api) -> None:
    status, body, resp = await api.call(
        "POST", "/assets", as_="adam", json={"name": "app-01", "address": "127.0.0.30", "type": "app_server"}
    )
    assert status == 201 and resp.headers["Location"] == "/api/v1/assets/app-01", body
    status, body, _ = await api.call("PATCH", "/assets/app-01", as_="adam", json={"location": "lab"})
    assert status == 200 and body["location"] == "lab"
    _, body, _ = await api.call("GET", "/assets/app-01")
    assert body["location"] == "lab" and body["type"] == "app_server"
    _, page, _ = await api.call("GET", "/assets", params={"type": "app_server"})
    assert [a["name"] for a in page["items"]] == ["app-01"]
    status, body, _ = await api.call(
        "POST",
        "/assets/import",
        as_="adam",
        json={
            "assets": [
                {"name": "app-02", "address": "127.0.0.31"},
                {"name": "app-03", "address": "127.0.0.32"},
            ]
        },
    )
    assert status == 200 and body == {"imported": 2}
    status, body, resp = await api.call(
        "POST", "/assets/import", as_="adam", json={"assets": [{"name": "app-02", "address": "127.0.0.33"}]}
    )
    assert_problem(status, body, resp, 422)  # all or nothing: an existing name without replace

    secret = "correct-horse-battery-staple"
    status, body, resp = await api.call(
        "PUT", "/assets/app-01/credentials/password", as_="adam", json={"username": "ops", "secret": secret}
    )
    assert status == 200 and body["username"] == "ops" and "secret" not in body
    status, raw, _ = await api.call("GET", "/assets/app-01/credentials", as_="adam")
    assert raw["items"] == [
        {"asset": "app-01", "kind": "password", "username": "ops", "key_id": body["key_id"]}
    ]
    stored = await api.app.assets.get_credential("app-01", "password")
    assert stored is not None and stored.secret.get_secret_value() == secret
    status, body, resp = await api.call(
        "PUT", "/assets/app-01/credentials/telepathy", as_="adam", json={"secret": "x"}
    )
    assert_problem(status, body, resp, 422)

    status, _, _ = await api.call("DELETE", "/assets/app-01", as_="adam")
    assert status == 204
    status, body, resp = await api.call("GET", "/assets/app-01")
    assert_problem(status, body, resp, 404)


async def test_idempotency_key_replays_the_first_answer(api: Api) -> None:
    headers = {"Idempotency-Key": "deploy-42"}
    first = await api.call("POST", "/requests", json=RESTART, headers=headers)
    again = await api.call("POST", "/requests", json=RESTART, headers=headers)
    assert first[0] == again[0] == 202
    assert first[1] == again[1] and again[2].headers["Idempotent-Replayed"] == "true"
    _, page, _ = await api.call("GET", "/executions", params={"tool": "automation.service_control"})
    assert len(page["items"]) == 1
    status, body, resp = await api.call("POST", "/requests", json={"text": "list assets"}, headers=headers)
    assert_problem(status, body, resp, 422)
    # another person's identical key is their own
    status, body, _ = await api.call("POST", "/requests", as_="adam", json=RESTART, headers=headers)
    assert status == 202 and body["execution_id"] != first[1]["execution_id"]


async def test_bodies_routes_and_media_types_answer_with_problems(api: Api) -> None:
    status, body, resp = await api.call(
        "POST", "/requests", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(status, body, resp, 422)
    status, body, resp = await api.call(
        "POST", "/requests", data=b"text=hi", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_problem(status, body, resp, 415)
    status, body, resp = await api.call("POST", "/requests", json={"text": "x", "steps": [{"tool": "a.b"}]})
    assert_problem(status, body, resp, 422)
    status, body, resp = await api.call("POST", "/requests", json={"steps": [{"tool": "no.such_tool"}]})
    assert_problem(status, body, resp, 422)
    status, body, resp = await api.call("GET", "/nowhere")
    assert_problem(status, body, resp, 404)
    status, body, resp = await api.call("DELETE", "/tools")
    assert_problem(status, body, resp, 405)


async def test_audit_head_and_verify(api: Api) -> None:
    await api.call("POST", "/requests", json={"text": "list assets"})
    _, head, _ = await api.call("GET", "/audit/head", as_="vera")
    assert head["seq"] >= 2 and len(head["hash"]) == 64
    _, report, _ = await api.call("GET", "/audit/verify", as_="vera")
    assert report == {"ok": True, "records": head["seq"], "first_bad_seq": None, "reason": ""}
    _, records, _ = await api.call("GET", "/audit/records", params={"limit": 2})
    assert [r["seq"] for r in records["items"]] == [head["seq"] - 1, head["seq"]]
    assert records["items"][-1]["hash"] == head["hash"]


async def test_a_request_still_running_is_acknowledged_with_its_execution(api: Api) -> None:
    slow = {"steps": [{"tool": "network.ping", "targets": ["127.0.0.1"], "args": {"count": 5}}], "wait_s": 0}
    status, body, resp = await api.call("POST", "/requests", json=slow)
    assert status == 202 and body["outcome"] == "running", body
    assert resp.headers["Location"] == f"/api/v1/executions/{body['execution_id']}"
    _, detail, _ = await api.call("GET", f"/executions/{body['execution_id']}")
    assert detail["status"] == "running" and detail["steps"][0]["tool"] == "network.ping"
