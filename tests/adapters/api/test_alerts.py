"""Alerts in, diagnosis out: Alertmanager's webhook against the real `serve` app, a real sshd on
loopback (tests/integration/sshd_testbed.py) and the Slack stand-in (tests/fakes/slack_api.py)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.alerts.mapping import assets_for
from tests.adapters.api.conftest import ASSETS, Api, api_settings, serve_api
from tests.fakes.slack_api import SlackApiStandIn
from tests.integration.sshd_fixtures import in_testbed, sshd_testbed, testbed_known_hosts
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]

TOKEN = "alerts-shared-token-7f3a"
CHANNEL = "CALERTS"
FIRING: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="HighLoad"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "opsconductor",
    "groupLabels": {"alertname": "HighLoad"},
    "commonLabels": {"alertname": "HighLoad", "job": "node"},
    "commonAnnotations": {"summary": "load above 4 for 10 minutes"},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighLoad", "instance": "127.0.0.11:9100", "job": "node"},
            "annotations": {"summary": "load above 4 for 10 minutes"},
            "startsAt": "2026-12-04T17:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": "a1b2c3d4e5f60718",
        }
    ],
}


@pytest.fixture
async def slack() -> AsyncIterator[SlackApiStandIn]:
    stand_in = SlackApiStandIn()
    await stand_in.start()
    yield stand_in
    await stand_in.close()
    assert not stand_in.unexpected, stand_in.unexpected


def settings_for(
    tmp_path: Path, slack: SlackApiStandIn, alerts: dict[str, Any] | None = None, **extra: Any
) -> Any:
    return api_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path}/api.db",
        slack={
            "enabled": True,
            "bot_token": "xoxb-test",
            "signing_secret": "s" * 32,
            "api_base_url": slack.base + "/api/",
        },
        alerts={"enabled": True, "token": TOKEN, "channel": CHANNEL, **(alerts or {})},
        **extra,
    )


async def post_alert(api: Api, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, answer, _ = await api.call(
        "POST", path, as_=None, json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return status, answer


def posted(slack: SlackApiStandIn) -> list[dict[str, Any]]:
    return [c.args for c in slack.of("chat.postMessage") if c.args.get("channel") == CHANNEL]


async def until(check: Any, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s")


async def test_an_alertmanager_alert_on_a_real_host_gets_one_diagnosis_thread_closed_when_resolved(
    in_testbed: SshdTestbed, testbed_known_hosts: Path, slack: SlackApiStandIn, tmp_path: Path
) -> None:
    ssh = {
        "username": "root",
        "known_hosts": str(testbed_known_hosts),
        "client_keys": [str(in_testbed.client_key)],
        "connect_timeout_s": 5,
    }
    async for api in serve_api(settings_for(tmp_path, slack, ssh=ssh)):
        status, receipt = await post_alert(api, "/alerts/alertmanager", FIRING)
        assert status == 202 and receipt["diagnosing"] == ["a1b2c3d4e5f60718"], receipt
        await until(lambda: len(posted(slack)) >= 2)
        head, findings = posted(slack)[:2]
        assert head.get("thread_ts") is None and "HighLoad" in head["text"] and "web-01" in head["text"]
        assert findings["thread_ts"] == receipt["thread"]
        _, page, _ = await api.call("GET", "/executions", params={"person": "alerts"})
        (run,) = page["items"]
        assert run["targets"] == ["web-01"] and run["status"] == "succeeded", run
        _, detail, _ = await api.call("GET", f"/executions/{run['id']}")
        assert detail["steps"][0]["results"][0]["status"] == "ok"  # really ran over SSH

        # Alertmanager repeats the notification (repeat_interval, a retry): no second diagnosis
        status, receipt = await post_alert(api, "/alerts/alertmanager", FIRING)
        assert status == 202 and receipt["duplicates"] == ["a1b2c3d4e5f60718"] and not receipt["diagnosing"]
        await asyncio.sleep(0.5)
        _, page, _ = await api.call("GET", "/executions", params={"person": "alerts"})
        assert len(page["items"]) == 1
        assert [m for m in posted(slack) if m.get("thread_ts") is None] == [head]

        resolved = copy.deepcopy(FIRING)
        resolved["status"] = "resolved"
        resolved["alerts"][0]["status"] = "resolved"
        status, receipt = await post_alert(api, "/alerts/alertmanager", resolved)
        assert status == 202 and receipt["resolved"] == ["a1b2c3d4e5f60718"]
        last = posted(slack)[-1]
        assert last["thread_ts"] == findings["thread_ts"] and "Resolved" in last["text"]


async def test_a_storm_is_one_thread_and_one_diagnosis_and_tokens_are_checked(
    slack: SlackApiStandIn, tmp_path: Path
) -> None:
    async for api in serve_api(settings_for(tmp_path, slack, ssh={"connect_timeout_s": 1})):
        storm = {
            "group": "disk-storm",
            "alerts": [
                {"name": "DiskFull", "labels": {"host": a.name}, "summary": "disk 95%"} for a in ASSETS
            ]
            + [{"name": "DiskFull", "labels": {"host": "not-in-inventory"}}],
        }
        for bad in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "Bearer gr\u00fcn"},  # not ASCII: refused like any other, not a 500
            {"Authorization": f"Bearer {api.tokens['adam']}"},
        ):
            status, body, _ = await api.call("POST", "/alerts/webhook", as_=None, json=storm, headers=bad)
            assert status == 401, body
        status, receipt = await post_alert(api, "/alerts/webhook", storm)
        assert status == 202 and len(receipt["diagnosing"]) == 3 and len(receipt["unmatched"]) == 1
        await until(lambda: len(posted(slack)) >= 2)
        (top,) = [m for m in posted(slack) if m.get("thread_ts") is None]
        assert "DiskFull (4 firing)" in top["text"] and "web-01, web-02" in top["text"]
        findings = [m for m in posted(slack) if m.get("thread_ts") == receipt["thread"]]
        assert len(findings) == 1  # one diagnosis over the three assets, its findings in the thread
        _, page, _ = await api.call("GET", "/executions", params={"person": "alerts"})
        (run,) = page["items"]
        assert sorted(run["targets"]) == sorted(a.name for a in ASSETS)
        status, body, _ = await api.call(
            "POST",
            "/alerts/webhook",
            as_=None,
            json={"alerts": []},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert status == 422 and body["status"] == 422


def test_labels_map_to_assets_by_name_address_and_tag() -> None:
    order = ("instance", "host", "job")
    assert assets_for({"instance": "127.0.0.12:9100"}, ASSETS, order) == ["web-02"]
    assert assets_for({"instance": "10.9.9.9:9100", "host": "DB-01"}, ASSETS, order) == ["db-01"]
    tagged = [a.model_copy(update={"tags": {"job": "nginx"}}) for a in ASSETS[:2]]
    assert assets_for({"job": "nginx"}, tagged, order) == ["web-01", "web-02"]
    assert assets_for({"instance": "[::1]:9100"}, ASSETS, order) == []
    assert assets_for({"job": "x"}, ASSETS, ("instance",)) == []
